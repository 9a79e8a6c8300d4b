#!/usr/bin/python3
"""Reference difflib.SequenceMatcher(None, a, b).ratio() values for test_similarity.c (GiGPO's
similarity grouping, baselines.md §2.3d). ASCII strings, short and long (>= 200 characters, where
difflib's autojunk drops popular characters of b), random and observation-like.
Usage: /usr/bin/python3 tests/rl/ref/difflib_ref.py > tests/rl/data/difflib_ref.json
"""
import difflib
import json
import random


def main():
    rng = random.Random(2505)
    obs = ["You arrive at countertop %d. On the countertop %d, you see a mug %d, a knife %d and a apple %d."
           % tuple(rng.randint(1, 4) for _ in range(5)) for _ in range(12)]
    pairs = [("", ""), ("", "abc"), ("abc", "abc"), ("abcd", "bcde"), ("Nothing happens.", "Nothing happens!")]
    for _ in range(60):
        pairs.append((rng.choice(obs), rng.choice(obs)))
    for _ in range(60):
        la, lb = rng.randint(0, 40), rng.randint(0, 40)
        pairs.append(("".join(rng.choice("ab c") for _ in range(la)), "".join(rng.choice("abc ") for _ in range(lb))))
    for _ in range(40):
        la, lb = rng.randint(150, 400), rng.randint(150, 400)
        alpha = "aaaaabbbc d"
        pairs.append(("".join(rng.choice(alpha) for _ in range(la)), "".join(rng.choice(alpha) for _ in range(lb))))
    long_obs = " ".join(obs)
    for _ in range(20):
        a = list(long_obs)
        for _ in range(rng.randint(0, 30)):
            a[rng.randrange(len(a))] = rng.choice("xyz ")
        pairs.append(("".join(a), long_obs))
    out = [{"a": a, "b": b, "ratio": difflib.SequenceMatcher(None, a, b).ratio()} for a, b in pairs]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
