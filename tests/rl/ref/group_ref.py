#!/usr/bin/python3
"""Reference GiGPO / GRPO / RLOO on random batches for test_group_ref.c, written from baselines.md
§1-§2 with PyTorch: row score s = R(tau) - c*invalid and step return G_t (minus c on invalid rows) kept
as float32, group statistics in float64 over rows (duplicates included, unbiased std, eps on sigma),
exact-match anchor groups inside each task group, singleton rules. Duplicated rows (a (traj, turn)
seen again) take R(tau) and G_t of the de-duplicated trajectory.
Usage: /usr/bin/python3 tests/rl/ref/group_ref.py > tests/rl/data/group_ref.json
"""
import json
import random

import torch


def f32(x):
    return float(torch.tensor(x, dtype=torch.float32))


def stats(vals):
    t = torch.tensor(vals, dtype=torch.float64)
    if len(vals) == 1:
        return 0.0, 1.0
    return float(t.mean()), float(t.std(unbiased=True))


def compute(rows, c):
    pen = c["invalid_action_penalty_coef"] if c["use_invalid_action_penalty"] else 0.0
    trajs = {}
    for i, r in enumerate(rows):
        trajs.setdefault(r["traj"], []).append(i)
    s, G = [0.0] * len(rows), [0.0] * len(rows)
    for idx in trajs.values():
        idx = sorted(idx, key=lambda i: rows[i]["turn"])
        first = {}
        for i in idx:
            first.setdefault(rows[i]["turn"], i)
        uniq = sorted(first.values(), key=lambda i: rows[i]["turn"])
        R = f32(sum(rows[i]["reward"] for i in uniq))
        if c["normalize_by_length"]:
            R = f32(R / len(uniq))
        g = 0.0
        ret = {}
        for i in reversed(uniq):
            g = f32(rows[i]["reward"] + c["gamma"] * g)
            ret[rows[i]["turn"]] = g
        for i in idx:
            inv = 0.0 if rows[i]["valid"] else pen
            s[i] = float(torch.tensor(R, dtype=torch.float32) - torch.tensor(inv, dtype=torch.float32))
            G[i] = float(torch.tensor(ret[rows[i]["turn"]], dtype=torch.float32) - torch.tensor(inv, dtype=torch.float32))
    groups, steps = {}, {}
    for i, r in enumerate(rows):
        groups.setdefault(r["group"], []).append(i)
        steps.setdefault((r["group"], r["obs"]), []).append(i)
    eps, std_mode = c["epsilon"], c["mode"] == "mean_std_norm"
    gigpo, grpo, rloo = [0.0] * len(rows), [0.0] * len(rows), [0.0] * len(rows)
    for idx in groups.values():
        mu, sd = stats([s[i] for i in idx])
        K = len(idx)
        for i in idx:
            gigpo[i] = (s[i] - mu) / (sd + eps) if std_mode else s[i] - mu
            grpo[i] = (s[i] - mu) / (sd + eps) if c["norm_adv_by_std_in_grpo"] else s[i] - mu
            rloo[i] = K / (K - 1) * (s[i] - mu) if K > 1 else s[i]
    for idx in steps.values():
        if len(idx) == 1:
            continue
        mu, sd = stats([G[i] for i in idx])
        for i in idx:
            gigpo[i] += c["step_advantage_w"] * ((G[i] - mu) / (sd + eps) if std_mode else G[i] - mu)
    return gigpo, grpo, rloo


def main():
    rng = random.Random(2505_10978)
    cases = []
    for _ in range(60):
        rows = []
        for k in range(rng.randint(1, 8)):
            T = rng.randint(1, 7)
            success = rng.random() < 0.5
            for t in range(T):
                rows.append({"traj": "t%d" % k, "group": "g%d" % (k % 3), "turn": t,
                             "reward": 10.0 if success and t == T - 1 else rng.choice([0.0, 0.0, 0.5]),
                             "done": t == T - 1, "valid": rng.random() < 0.8, "obs": "s%d" % rng.randint(0, 4)})
        for _ in range(rng.choice([0, 0, 1, 3])):
            rows.append(dict(rows[rng.randrange(len(rows))]))
        rng.shuffle(rows)
        cfg = {"gamma": rng.choice([0.95, 0.9, 1.0]), "step_advantage_w": rng.choice([1.0, 0.5]),
               "mode": rng.choice(["mean_norm", "mean_std_norm"]), "epsilon": 1e-6,
               "use_invalid_action_penalty": rng.random() < 0.8, "invalid_action_penalty_coef": 0.1,
               "normalize_by_length": rng.random() < 0.3, "enable_similarity": False, "similarity_thresh": 0.95,
               "norm_adv_by_std_in_grpo": rng.random() < 0.7}
        gigpo, grpo, rloo = compute(rows, cfg)
        cases.append({"config": cfg, "rows": rows, "gigpo": gigpo, "grpo": grpo, "rloo": rloo})
    print(json.dumps(cases))


if __name__ == "__main__":
    main()
