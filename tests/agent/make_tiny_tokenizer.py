#!/usr/bin/python3
"""Write data/tiny_tokenizer.json: a small byte-level BPE (256 byte tokens + merges learned here on a
few lines of ALFWorld/WebShop-like text + Qwen's special tokens) in the Hugging Face tokenizer.json
layout that hp_tok_load reads. A test fixture for the agent tests, which need some tokenizer; it is not
a reference for any expected value."""
import collections
import json
import re
import sys

CORPUS = """You are an expert agent operating in the ALFRED Embodied Environment.
Your task is to: put a clean mug in coffeemachine. Your current observation is: You arrive at countertop 1.
On the countertop 1, you see a mug 1, a knife 2, and a apple 3. Your admissible actions are:
'go to cabinet 1' 'go to countertop 1' 'take mug 1 from countertop 1' 'open fridge 1' 'inventory' 'look'
Your current sub-goal is: find the mug. <switch>KEEP</switch> <subgoal>find the mug</subgoal>
<action>go to countertop 1</action> <switch>SWITCH</switch> <think>I should</think>
Task: Subgoal: Obs Act Now: Actions: Reply Nothing happens. You pick up the mug 1 from the countertop 1.
Your overall task is: You have already taken step(s). Most recent observations and actions:
[Observation 1: 'You arrive', Action 1: 'go to sinkbasin 1'] clean heat cool examine desklamp
WebShop search[<your query>] click[search] click[buy now] click[back to search] click[next >]
i need a red cotton shirt, and price lower than 30.00 dollars
""" * 3


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def main(out, n_merges=300):
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: i for i, b in enumerate(sorted(b2u))}
    words = collections.Counter(re.findall(r" ?[A-Za-z]+| ?[0-9]| ?[^\sA-Za-z0-9]+|\s+", CORPUS))
    seqs = {w: [b2u[b] for b in w.encode()] for w in words}
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, c in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append([a, b])
        vocab[a + b] = len(vocab)
        for w in seqs:
            s, r, i = seqs[w], [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    r.append(a + b)
                    i += 2
                else:
                    r.append(s[i])
                    i += 1
            seqs[w] = r
    added = []
    for name in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]:
        added.append({"id": len(vocab), "content": name, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True})
        vocab[name] = len(vocab)
    bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    tok = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
             "behavior": "Isolated", "invert": False}, bl]},
        "post_processor": bl, "decoder": bl,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {k: v for k, v in vocab.items() if v < len(vocab) - 3}, "merges": merges},
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data/tiny_tokenizer.json")
