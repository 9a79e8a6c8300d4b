#!/usr/bin/python3
"""Reference GAE values from PyTorch (run with /usr/bin/python3, torch 1.13) for test_gae.c.

Writes tests/rl/data/gae_ref.json with two parts, written from baselines.md §2.4 and §2.5:
  tokens: veRL's token-level GAE over padded responses (values kept through the post-EOS slot n,
          V_L = 0), returns = A + V, then masked whitening over the response mask (unbiased var).
  turns:  the HiPER fork's turn-level GAE across a trajectory's turns (u = reward − 0.1·invalid,
          v = the turn's value, duplicates share their first occurrence), whitened over the rows.
Inputs are float32-representable; the arithmetic is float64 so the C code can be held to 1e-9.
Usage: /usr/bin/python3 tests/rl/ref/gae_ref.py > tests/rl/data/gae_ref.json
"""
import json
import random

import torch


def masked_whiten(x, mask):
    m = mask.to(x.dtype)
    n = m.sum()
    mean = (x * m).sum() / n
    var = (((x - mean) ** 2) * m).sum() / n * (n / (n - 1))
    return (x - mean) * torch.rsqrt(var + 1e-8)


def token_gae(rewards, values, resp_len, gamma, lam):
    B, L = rewards.shape
    pos = torch.arange(L).unsqueeze(0)
    shifted = (pos <= resp_len.unsqueeze(1)).to(values.dtype)  # attention mask shifted by one
    v = values * shifted
    adv = torch.zeros_like(v)
    last = torch.zeros(B, dtype=v.dtype)
    for t in reversed(range(L)):
        nxt = v[:, t + 1] if t < L - 1 else torch.zeros(B, dtype=v.dtype)
        delta = rewards[:, t] + gamma * nxt - v[:, t]
        last = delta + gamma * lam * last
        adv[:, t] = last
    ret = adv + v
    resp_mask = pos < resp_len.unsqueeze(1)
    return masked_whiten(adv, resp_mask), ret


def f32(x):
    return float(torch.tensor(x, dtype=torch.float32))


def make_tokens(rng, gamma, lam):
    B, L = 6, 8
    resp_len = [rng.randint(1, L) for _ in range(B)]
    resp_len[0] = L  # a response cut at L: no post-EOS slot
    values = [[f32(rng.uniform(-2, 2)) for _ in range(L)] for _ in range(B)]
    rewards = [[0.0] * L for _ in range(B)]
    for b in range(B):
        rewards[b][resp_len[b] - 1] = f32(rng.choice([0.0, 10.0, -0.1, 9.9]))
    adv, ret = token_gae(torch.tensor(rewards, dtype=torch.float64), torch.tensor(values, dtype=torch.float64),
                         torch.tensor(resp_len), gamma, lam)
    return {"gamma": gamma, "lam": lam, "L": L, "resp_len": resp_len, "values": values, "rewards": rewards,
            "adv": adv.tolist(), "ret": ret.tolist()}


def make_turns(rng, gamma, lam):
    rows = []
    for k in range(4):
        T = rng.randint(1, 6)
        done = rng.random() < 0.6
        for t in range(T):
            rows.append({"traj": "t%d" % k, "turn": t, "reward": f32(rng.choice([0.0, 0.0, 1.5, 10.0])),
                         "done": done and t == T - 1, "valid": rng.random() < 0.8,
                         "v_low": f32(rng.uniform(-2, 2))})
    dup = dict(rows[rng.randrange(len(rows))])  # a batch-padding copy
    rows.append(dup)
    order = list(range(len(rows)))
    rng.shuffle(order)
    rows = [rows[i] for i in order]
    u = torch.tensor([r["reward"] - (0.0 if r["valid"] else 0.1) for r in rows], dtype=torch.float64)
    v = torch.tensor([r["v_low"] for r in rows], dtype=torch.float64)
    adv = torch.zeros(len(rows), dtype=torch.float64)
    ret = torch.zeros(len(rows), dtype=torch.float64)
    trajs = {}
    for i, r in enumerate(rows):
        trajs.setdefault(r["traj"], {}).setdefault(r["turn"], []).append(i)
    for turns in trajs.values():
        ts = sorted(turns)
        rep = [turns[t][0] for t in ts]
        last = torch.tensor(0.0, dtype=torch.float64)
        for j in reversed(range(len(ts))):
            i = rep[j]
            nxt = v[rep[j + 1]] if j + 1 < len(ts) and not rows[i]["done"] else 0.0
            delta = u[i] + gamma * nxt - v[i]
            last = delta if rows[i]["done"] else delta + gamma * lam * last
            for c in turns[ts[j]]:
                adv[c] = last
                ret[c] = last + v[i]
    adv = masked_whiten(adv, torch.ones(len(rows), dtype=torch.bool))
    return {"gamma": gamma, "lam": lam, "rows": rows, "adv": adv.tolist(), "ret": ret.tolist()}


def main():
    rng = random.Random(20260218)
    cases = [(1.0, 1.0), (0.99, 0.95), (0.9, 0.5)]
    out = {"tokens": [make_tokens(rng, g, l) for g, l in cases],
           "turns": [make_turns(rng, g, l) for g, l in cases for _ in range(3)]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
