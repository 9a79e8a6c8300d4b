#!/usr/bin/python3
"""End-to-end check of 'hiper init', 'hiper score' and 'hiper generate' against the PyTorch float64
reference in model_qwen2_ref.py.

Usage: model_cli_test.py HIPER_BINARY CORPUS.jsonl TMPDIR
"""
import json
import os
import shutil
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_qwen2_ref import Ref, read_safetensors  # noqa: E402

HIPER, CORPUS, TMP = sys.argv[1], sys.argv[2], sys.argv[3]
f64 = torch.float64
failures = []


def run(*args, ok=True):
    p = subprocess.run([HIPER, *args], capture_output=True, text=True)
    if ok and p.returncode != 0:
        raise SystemExit("hiper %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def close(what, got, want, atol, rtol):
    got, want = torch.as_tensor(got, dtype=f64), torch.as_tensor(want, dtype=f64)
    d = (got - want).abs().max().item() if got.numel() else 0.0
    lim = atol + rtol * (want.abs().max().item() if want.numel() else 0.0)
    if not (got.shape == want.shape and d <= lim):
        failures.append("%s: max diff %g > %g (shapes %s %s)" % (what, d, lim, tuple(got.shape), tuple(want.shape)))


def check_score(name, init_args):
    mdir = os.path.join(TMP, name)
    run("init", "--tokenizer", os.path.join(TMP, "tok"), "--out", mdir, "--seed", "5", *init_args)
    seqs = [[5, 17, 99, 3, 250, 7, 7, 42], [300, 2, 11], [8, 9, 10, 11, 12]]
    ids_path = os.path.join(TMP, name + ".ids")
    with open(ids_path, "w") as f:
        json.dump(seqs, f)
    gpath = os.path.join(TMP, name + ".grad.safetensors")
    out = json.loads(run("score", "--model", mdir, "--ids", ids_path, "--grad-out", gpath).stdout)
    cfg = json.load(open(os.path.join(mdir, "config.json")))
    P = read_safetensors(os.path.join(mdir, "model.safetensors"))
    for t in P.values():
        t.requires_grad_(True)
    ids = sum(seqs, [])
    offs = [0]
    for s in seqs:
        offs.append(offs[-1] + len(s))
    res = Ref(cfg, P, None).outputs(ids, offs)
    lp = torch.cat([res["logp"][offs[i]:offs[i + 1] - 1] for i in range(len(seqs))])
    loss = -lp.mean()
    loss.backward()
    close(name + " loss", [out["loss"]], [loss.item()], 1e-6, 1e-5)
    close(name + " logprobs", out["logprobs"], lp.detach(), 1e-5, 1e-5)
    G = read_safetensors(gpath)
    if set(G) != set(P):
        failures.append("%s: gradient names differ: %s" % (name, sorted(set(G) ^ set(P))))
    for n, t in P.items():
        close(name + " grad " + n, G[n], t.grad, 1e-7, 2e-3)
    return mdir, cfg, P


def check_generate(mdir, cfg, P):
    # greedy: each token is the argmax of the reference logits; log-probs are the policy's
    r = json.loads(run("generate", "--model", mdir, "--prompt", "go to the kitchen", "--temperature", "0",
                       "--max-new", "12", "--json").stdout)
    enc = run("tokenizer", "encode", "--tokenizer", mdir, "--text", "go to the kitchen").stdout.split()
    prompt = [int(x) for x in enc]
    ids = prompt + r["ids"]
    with torch.no_grad():
        ref = Ref(cfg, P, None)
        hf = ref.forward(ids, [0, len(ids)])
        W = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else P["lm_head.weight"]
        lsm = torch.log_softmax(hf @ W.T, -1)
    for i, tok in enumerate(r["ids"]):
        row = lsm[len(prompt) - 1 + i]
        if row[tok] < row.max() - 1e-5:
            failures.append("greedy token %d is not the argmax" % i)
        close("generate logprob %d" % i, [r["logprobs"][i]], [row[tok].item()], 1e-4, 1e-4)
    # sampling is reproducible from the seed
    a = run("generate", "--model", mdir, "--prompt", "open the door", "--seed", "7", "--max-new", "20", "--json",
            "--n", "3").stdout
    b = run("generate", "--model", mdir, "--prompt", "open the door", "--seed", "7", "--max-new", "20", "--json",
            "--n", "3").stdout
    if a != b:
        failures.append("generate is not deterministic for a fixed seed")
    lines = [json.loads(x) for x in a.splitlines()]
    if len(lines) != 3 or lines[0]["ids"] == lines[1]["ids"]:
        failures.append("--n 3 did not give three different samples")


def check_errors():
    p = run("score", "--ids", "x", ok=False)
    if p.returncode != 2:
        failures.append("score without --model should exit 2, got %d" % p.returncode)
    p = run("score", "--model", os.path.join(TMP, "nope"), "--ids", os.path.join(TMP, "untied.ids"), ok=False)
    if p.returncode != 1 or "hiper: error:" not in p.stderr or "nope" not in p.stderr:
        failures.append("score on a missing model: exit %d, stderr %r" % (p.returncode, p.stderr))
    bad = os.path.join(TMP, "bad.ids")
    open(bad, "w").write("1 2 x 3\n")
    p = run("score", "--model", os.path.join(TMP, "untied"), "--ids", bad, ok=False)
    if p.returncode != 1 or "bad.ids:1" not in p.stderr:
        failures.append("bad ids file: exit %d, stderr %r" % (p.returncode, p.stderr))
    for cmd in ("init", "score", "generate"):
        if run(cmd, "--help", ok=False).returncode != 0:
            failures.append(cmd + " --help failed")


def main():
    shutil.rmtree(TMP, ignore_errors=True)
    os.makedirs(TMP)
    run("tokenizer", "train", "--corpus", CORPUS, "--vocab-size", "400", "--out", os.path.join(TMP, "tok"))
    mdir, cfg, P = check_score("untied", ["--layers", "2", "--dim", "32", "--heads", "4", "--kv-heads", "2",
                                          "--ffn", "48", "--untied"])
    check_score("tied", ["--layers", "1", "--dim", "24", "--heads", "2", "--kv-heads", "2", "--ffn", "40"])
    check_generate(mdir, cfg, {k: v.detach() for k, v in P.items()})
    check_errors()
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    shutil.rmtree(TMP, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
