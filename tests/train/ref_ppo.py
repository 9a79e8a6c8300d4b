#!/usr/bin/python3
"""Independent PyTorch (1.13) reference for the PPO losses of hiper/ppo.h.

Writes random micro-batches and what verl's formulas give for them (loss, diagnostics, and the
gradients from autograd) as JSON. Used two ways:
  ref_ppo.py --out FILE [--seed N]            write the fixture (tests/train/data/ppo_ref.json)
  ref_ppo.py --check TEST_BINARY [--seed N]   write fresh cases to a temporary file and run the C test on it
"""
import argparse, json, os, subprocess, sys, tempfile
import torch

AGGS = ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"]
KLS = ["kl", "abs", "mse", "low_var_kl"]


def agg_loss(mat, mask, mode):
    if mode == "token-mean":
        return (mat * mask).sum() / (mask.sum() + 1e-8)
    if mode == "seq-mean-token-sum":
        return (mat * mask).sum(-1).mean()
    if mode == "seq-mean-token-mean":
        return ((mat * mask).sum(-1) / (mask.sum(-1) + 1e-8)).mean()
    if mode == "seq-mean-token-sum-norm":
        return (mat * mask).sum() / mask.shape[-1]
    raise ValueError(mode)


def masked_mean(x, mask):
    return (x * mask).sum() / (mask.sum() + 1e-8)


def kl_term(logp, ref, kind):
    if kind == "kl":
        return logp - ref
    if kind == "abs":
        return (logp - ref).abs()
    if kind == "mse":
        return 0.5 * (logp - ref).square()
    kl = torch.clamp(ref - logp, min=-20, max=20)
    return torch.clamp(torch.exp(kl) - kl - 1, min=-10, max=10)


def actor(case):
    d = lambda k: torch.tensor(case[k], dtype=torch.float64)
    logp = d("logp").requires_grad_(True)
    ent = d("entropy").requires_grad_(True)
    old, ref, adv, mask = d("old_logp"), d("ref_logp"), d("adv"), d("mask")
    c = case["cfg"]
    nk = torch.clamp(logp - old, min=-20.0, max=20.0)
    ratio = torch.exp(nk)
    l1 = -adv * ratio
    l2 = -adv * torch.clamp(ratio, 1 - c["clip_low"], 1 + c["clip_high"])
    lc = torch.maximum(l1, l2)
    clipfrac = masked_mean(torch.gt(l2, l1).double(), mask)
    if c["clip_c"] > 0:
        l3 = -adv * c["clip_c"]
        lower = torch.min(l3, lc)
        clipfrac_lower = masked_mean((torch.gt(lc, l3) & (adv < 0)).double(), mask)
        pg_mat = torch.where(adv < 0, lower, lc)
    else:
        clipfrac_lower = torch.tensor(0.0, dtype=torch.float64)
        pg_mat = lc
    pg = agg_loss(pg_mat, mask, c["agg"])
    e = agg_loss(ent, mask, c["agg"])
    total = pg - c["entropy_coeff"] * e
    kl = torch.tensor(0.0, dtype=torch.float64)
    if c["use_kl"]:
        kl = agg_loss(kl_term(logp, ref, c["kl_type"]), mask, c["agg"])
        total = total + c["kl_coef"] * kl
    total = total * c["scale"]
    total.backward()
    return {"loss": total.item(), "pg_loss": pg.item(), "entropy": e.item(), "kl": kl.item(),
            "clipfrac": clipfrac.item(), "clipfrac_lower": clipfrac_lower.item(),
            "approx_kl": masked_mean(old - logp.detach(), mask).item(),
            "g_logp": logp.grad.tolist(), "g_entropy": ent.grad.tolist()}


def value(case):
    d = lambda k: torch.tensor(case[k], dtype=torch.float64)
    v = d("v").requires_grad_(True)
    vo, ret, mask = d("v_old"), d("ret"), d("mask")
    c = case["cfg"]
    vc = torch.clamp(v, vo - c["cliprange"], vo + c["cliprange"])
    a, b = (v - ret) ** 2, (vc - ret) ** 2
    vf = agg_loss(torch.max(a, b), mask, c["agg"])
    loss = vf * c["coef"] * c["scale"]
    loss.backward()
    return {"loss": loss.item(), "vf_loss": vf.item(), "clipfrac": masked_mean(torch.gt(b, a).double(), mask).item(),
            "g_v": v.grad.tolist()}


def f32(x):
    # the C side reads log-probs and values as float: round them here so both sides see the same inputs
    return x.float().double().tolist()


def make_cases(seed):
    g = torch.Generator().manual_seed(seed)
    rnd = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)
    cases = []
    i = 0
    for agg in AGGS:
        for kl in KLS:
            for variant in range(3):
                B, L = int(torch.randint(1, 5, (1,), generator=g)), int(torch.randint(1, 9, (1,), generator=g))
                logp = -rnd(B, L).abs() * 2
                # old log-probs: near the current ones (ratios inside and outside [0.8, 1.2]), some far off
                spread = [0.1, 0.5, 3.0][variant]
                old = logp + spread * rnd(B, L)
                ref = logp + [0.3, 2.0, 8.0][variant] * rnd(B, L)
                mask = (torch.rand(B, L, generator=g) < 0.7).double()
                if variant == 2:
                    mask[0, :] = 0.0  # an empty row
                cfg = {"clip_low": 0.2, "clip_high": [0.2, 0.28, 0.2][variant], "clip_c": [3.0, 3.0, 0.0][variant],
                       "entropy_coeff": 0.001 if variant != 1 else 0.05, "kl_coef": 0.01 if variant != 1 else 0.3,
                       "use_kl": variant != 2 or kl == "abs", "kl_type": kl, "agg": agg,
                       "scale": [1.0, 0.25, 0.5][variant]}
                case = {"name": f"actor_{i}_{agg}_{kl}_{variant}", "kind": "actor", "B": B, "L": L, "cfg": cfg,
                        "logp": f32(logp), "old_logp": f32(old), "ref_logp": f32(ref),
                        "entropy": f32(rnd(B, L).abs() * 3), "adv": (rnd(B, L) * 2).tolist(),
                        "mask": mask.tolist()}
                case["expect"] = actor(case)
                cases.append(case)
                i += 1
        for variant in range(3):
            B, L = int(torch.randint(1, 5, (1,), generator=g)), int(torch.randint(1, 9, (1,), generator=g))
            vo = rnd(B, L) * 3
            v = vo + [0.2, 1.0, 3.0][variant] * rnd(B, L)
            ret = vo + 2 * rnd(B, L)
            mask = (torch.rand(B, L, generator=g) < 0.6).double()
            if variant == 2:
                mask[:] = 0.0  # an empty head contributes 0
            cfg = {"cliprange": [0.5, 0.2, 0.5][variant], "coef": [1.0, 0.5, 1.0][variant], "agg": agg,
                   "scale": [1.0, 0.25, 1.0][variant]}
            case = {"name": f"value_{i}_{agg}_{variant}", "kind": "value", "B": B, "L": L, "cfg": cfg,
                    "v": f32(v), "v_old": f32(vo), "ret": ret.tolist(), "mask": mask.tolist()}
            case["expect"] = value(case)
            cases.append(case)
            i += 1
    return {"generator": "tests/train/ref_ppo.py", "torch": torch.__version__, "seed": seed, "cases": cases}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--check")
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    data = make_cases(a.seed)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(data, f)
        return 0
    if a.check:
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "ppo_ref.json")
            with open(p, "w") as f:
                json.dump(data, f)
            return subprocess.call([a.check, p])
    ap.error("need --out or --check")


if __name__ == "__main__":
    sys.exit(main())
