#!/usr/bin/python3
"""Reference HAE on random batches for test_hae_ref.c, written from hiper.md §4 with PyTorch tensors
(float64): grouping by trajectory with a stable sort by turn (duplicates become extra turns), reward
shaping (KEEP penalty normalized/fixed, invalid penalty, consistency penalty), segments, low-level GAE
inside segments, SMDP high level, termination returns, and normalisation over the three sets.
Batches mix missing <switch>/<subgoal> blocks, illegal switch words, empty responses, invalid turns,
truncated and finished trajectories, duplicated rows and shuffled row order.
Usage: /usr/bin/python3 tests/rl/ref/hae_ref.py > tests/rl/data/hae_ref.json
"""
import json
import random

import torch

WORDS = ["KEEP", "SWITCH", " keep\n", "Switch", "MAYBE", "", None, None]
SUBGOALS = ["find mug", "clean mug", "put mug", None]


def is_keep(w):
    return w is None or w.strip().upper() in ("", "KEEP")


def hae(rows, c):
    n = len(rows)
    g = c["gamma"]
    by_traj = {}
    for i, r in enumerate(rows):
        by_traj.setdefault(r["traj"], []).append(i)
    sw = [not is_keep(r["switch"]) for r in rows]
    rs = torch.tensor([r["reward"] for r in rows], dtype=torch.float64)
    bnd = [False] * n
    out = {k: torch.zeros(n, dtype=torch.float64) for k in ("al", "rl", "ah", "rh", "at", "rt")}
    for idx in by_traj.values():
        idx = sorted(idx, key=lambda i: rows[i]["turn"])  # stable
        T = len(idx)
        keep = [i for i in idx if not sw[i]]
        if c["keep_penalty"] != 0:
            if c["keep_penalty_mode"] == "fixed":
                for i in keep:
                    rs[i] += c["keep_penalty"]
            elif T > 1 and keep:
                for i in keep:
                    rs[i] += c["keep_penalty"] * (len(keep) / T) / len(keep)
        for i in idx:
            if not rows[i]["valid"]:
                rs[i] -= c["invalid_action_penalty_coef"]
        for p in range(1, T):
            i, j = idx[p], idx[p - 1]
            if sw[i] or c["keep_consistency_penalty"] == 0:
                continue
            a, b = rows[i]["subgoal"], rows[j]["subgoal"]
            if a is None or b is None:
                if c["keep_consistency_requires_both"]:
                    continue
                rs[i] += c["keep_consistency_penalty"]
            elif a != b:
                rs[i] += c["keep_consistency_penalty"]
        starts = [p for p in range(T) if p == 0 or sw[idx[p]]]
        for p in starts:
            bnd[idx[p]] = True
        next_adv_h = 0.0
        for k in reversed(range(len(starts))):
            s = starts[k]
            e = starts[k + 1] - 1 if k + 1 < len(starts) else T - 1
            nxt = idx[starts[k + 1]] if k + 1 < len(starts) else None
            nd = 0.0 if rows[idx[e]]["done"] else 1.0
            vh_s = rows[idx[s]]["v_high"]
            if nd == 0.0:
                boot_h = boot_l = 0.0
            elif nxt is not None:
                boot_h = boot_l = rows[nxt]["v_high"]
            elif c["bootstrap_truncated"]:
                boot_h, boot_l = vh_s, rows[idx[e]]["v_low"]
            else:
                boot_h = boot_l = 0.0
            a_next = 0.0
            for p in range(e, s - 1, -1):
                i = idx[p]
                ndt = 0.0 if rows[i]["done"] else 1.0
                vl = rows[i]["v_low"]
                if p == e:
                    a = rs[i] + g * ndt * boot_l - vl
                else:
                    a = rs[i] + g * ndt * rows[idx[p + 1]]["v_low"] - vl + g * c["lam_turn"] * ndt * a_next
                out["al"][i], out["rl"][i] = a, a + vl
                a_next = a
            ret = boot_h * nd
            for p in range(e, s - 1, -1):
                i = idx[p]
                ret = rs[i] + g * ret
                if c["has_term"]:
                    out["rt"][i], out["at"][i] = ret, ret - rows[i]["v_term"]
            G = sum((g ** j) * rs[idx[s + j]] for j in range(e - s + 1))
            d = e - s + 1
            ah = G + (g ** d) * nd * boot_h - vh_s + (g ** d) * c["lam_seg"] * nd * next_adv_h
            out["ah"][idx[s]], out["rh"][idx[s]] = ah, ah + vh_s
            next_adv_h = ah
    sets = {
        "al": torch.tensor([not r["empty_response"] for r in rows]),
        "ah": torch.tensor([bnd[i] and rows[i]["subgoal"] is not None for i in range(n)]),
        "at": torch.tensor([c["has_term"] and r["switch"] is not None for r in rows]),
    }
    for k, m in sets.items():
        x = out[k]
        if c["norm_adv"] and m.any():
            x = (x - x[m].mean()) / (x[m].std(unbiased=False) + 1e-8)
        out[k] = torch.where(m, x, torch.zeros_like(x))
    return bnd, rs, out


def make_batch(rng):
    rows = []
    for k in range(rng.randint(1, 5)):
        T = rng.randint(1, 8)
        done = rng.random() < 0.5
        for t in range(T):
            empty = rng.random() < 0.05
            rows.append({
                "traj": "t%d" % k, "turn": t, "reward": rng.choice([0.0, 0.0, 0.0, 1.0, 10.0]),
                "done": done and t == T - 1, "valid": rng.random() < 0.8, "empty_response": empty,
                "switch": None if empty else rng.choice(WORDS), "subgoal": None if empty else rng.choice(SUBGOALS),
                "v_high": round(rng.uniform(-2, 5), 3), "v_low": round(rng.uniform(-2, 5), 3),
                "v_term": round(rng.uniform(-2, 5), 3)})
    for _ in range(rng.choice([0, 0, 1, 2])):
        rows.append(dict(rows[rng.randrange(len(rows))]))
    rng.shuffle(rows)
    return rows


def make_config(rng):
    return {"gamma": rng.choice([1.0, 0.95, 0.9]), "lam_turn": rng.choice([1.0, 0.8, 0.0]),
            "lam_seg": rng.choice([0.95, 1.0, 0.5]), "keep_penalty": rng.choice([-0.3, -3.5, 0.0]),
            "keep_penalty_mode": rng.choice(["normalized", "fixed"]), "invalid_action_penalty_coef": 0.1,
            "keep_consistency_penalty": rng.choice([-0.3, 0.0]),
            "keep_consistency_requires_both": rng.random() < 0.7,
            "bootstrap_truncated": rng.random() < 0.5, "norm_adv": rng.random() < 0.5,
            "has_term": rng.random() < 0.8}


def main():
    rng = random.Random(2602_16165)
    cases = []
    for _ in range(80):
        rows, cfg = make_batch(rng), make_config(rng)
        bnd, rs, o = hae(rows, cfg)
        cases.append({"config": cfg, "rows": rows, "boundary": bnd, "reward_shaped": rs.tolist(),
                      "adv_low": o["al"].tolist(), "ret_low": o["rl"].tolist(), "adv_high": o["ah"].tolist(),
                      "ret_high": o["rh"].tolist(), "adv_term": o["at"].tolist(), "ret_term": o["rt"].tolist()})
    print(json.dumps(cases))


if __name__ == "__main__":
    main()
