#!/usr/bin/python3
"""The PyTorch 1.13 side of bench_model: the same Qwen2 shapes in float32 on the same threads.

Usage: OMP_NUM_THREADS=2 bench_torch.py [--layers L --dim D --heads H --kv-heads K --ffn F --vocab V]
                                        [--seq S --nseq N --gen-batch B --gen-prompt P --gen-new G]
Prints the same JSON keys as bench_model (score_tok_s, train_tok_s, gen_tok_s, prefill_tok_s,
decode_tok_s). train = forward + backward + torch.optim.AdamW step. Generation: prefill of all prompts
as one batch, then decode steps; decode tokens/s = the sampled tokens after the first over the decode time.
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
for k, v in [("layers", 4), ("dim", 256), ("heads", 4), ("kv-heads", 2), ("ffn", 704), ("vocab", 4096),
             ("seq", 256), ("nseq", 8), ("gen-batch", 16), ("gen-prompt", 128), ("gen-new", 64), ("reps", 2)]:
    p.add_argument("--" + k, type=int, default=v)
a = p.parse_args()
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
torch.manual_seed(0)
D, H, HK, L, V = a.dim, a.heads, a.kv_heads, a.layers, a.vocab
hd = D // H


class RMS(nn.Module):
    def __init__(s):
        super().__init__()
        s.w = nn.Parameter(torch.ones(D))

    def forward(s, x):
        return s.w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))


class Layer(nn.Module):
    def __init__(s):
        super().__init__()
        s.n1, s.n2 = RMS(), RMS()
        s.q, s.k, s.v = nn.Linear(D, H * hd), nn.Linear(D, HK * hd), nn.Linear(D, HK * hd)
        s.o = nn.Linear(H * hd, D, bias=False)
        s.g, s.u = nn.Linear(D, a.ffn, bias=False), nn.Linear(D, a.ffn, bias=False)
        s.d = nn.Linear(a.ffn, D, bias=False)


inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))


def rope(x, pos):  # x [B, T, h, hd]
    ang = pos[:, None].float() * inv[None]
    cos, sin = torch.cat([ang.cos()] * 2, -1)[None, :, None], torch.cat([ang.sin()] * 2, -1)[None, :, None]
    return x * cos + torch.cat([-x[..., hd // 2:], x[..., :hd // 2]], -1) * sin


class Model(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(V, D)
        s.layers = nn.ModuleList([Layer() for _ in range(L)])
        s.norm = RMS()

    def forward(s, ids, cache=None, start=0):
        B, T = ids.shape
        x = s.emb(ids)
        pos = torch.arange(start, start + T)
        for i, l in enumerate(s.layers):
            h = l.n1(x)
            q = rope(l.q(h).view(B, T, H, hd), pos)
            k = rope(l.k(h).view(B, T, HK, hd), pos)
            v = l.v(h).view(B, T, HK, hd)
            if cache is not None:
                if i in cache:
                    k = torch.cat([cache[i][0], k], 1)
                    v = torch.cat([cache[i][1], v], 1)
                cache[i] = (k, v)
            k, v = k.repeat_interleave(H // HK, 2), v.repeat_interleave(H // HK, 2)
            sc = torch.einsum("bihd,bjhd->bhij", q, k) / math.sqrt(hd)
            S = k.shape[1]
            mask = torch.arange(S)[None, :] <= (torch.arange(T)[:, None] + S - T)
            sc = sc.masked_fill(~mask, float("-inf"))
            o = torch.einsum("bhij,bjhd->bihd", sc.softmax(-1), v).reshape(B, T, D)
            x = x + l.o(o)
            h = l.n2(x)
            x = x + l.d(F.silu(l.g(h)) * l.u(h))
        return s.norm(x) @ s.emb.weight.T


m = Model()
opt = torch.optim.AdamW(m.parameters(), lr=1e-6)
ids = torch.randint(0, V, (a.nseq, a.seq))


def pass_(train):
    logits = m(ids)
    lp = torch.log_softmax(logits[:, :-1], -1)
    logp = lp.gather(-1, ids[:, 1:, None])[..., 0]
    ent = -(lp.exp() * lp).sum(-1)
    if train:
        opt.zero_grad()
        (1e-3 * (logp.sum() + ent.sum())).backward()
        opt.step()


t_s = t_t = c_s = c_t = 1e30
for _ in range(a.reps):
    t0, c0 = time.time(), time.process_time()
    with torch.no_grad():
        pass_(False)
    t1, c1 = time.time(), time.process_time()
    pass_(True)
    t2, c2 = time.time(), time.process_time()
    t_s, t_t = min(t_s, t1 - t0), min(t_t, t2 - t1)
    c_s, c_t = min(c_s, c1 - c0), min(c_t, c2 - c1)
with torch.no_grad():
    prompts = torch.randint(0, V, (a.gen_batch, a.gen_prompt))
    t0, c0 = time.time(), time.process_time()
    cache = {}
    logits = m(prompts, cache)[:, -1]
    t_pf = time.time() - t0
    n = 0
    for step in range(a.gen_new):
        tok = torch.multinomial(torch.softmax(logits, -1), 1)
        n += tok.numel()
        if step + 1 < a.gen_new:
            logits = m(tok, cache, a.gen_prompt + step)[:, -1]
    t_g, c_g = time.time() - t0, time.process_time() - c0
    dec = (n - a.gen_batch) / (t_g - t_pf) if a.gen_new > 1 else 0
T = a.seq * a.nseq
print(json.dumps({"torch_threads": torch.get_num_threads(), "tokens": T, "score_tok_s": round(T / t_s, 1),
                  "train_tok_s": round(T / t_t, 1), "gen_tok_s": round(n / t_g, 1),
                  "prefill_tok_s": round(a.gen_batch * a.gen_prompt / t_pf, 1), "decode_tok_s": round(dec, 2),
                  "cpu_time_rates": {"score_tok_s": round(T / c_s, 1), "train_tok_s": round(T / c_t, 1),
                                     "gen_tok_s": round(n / c_g, 1)}}))
