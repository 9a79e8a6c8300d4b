#!/usr/bin/python3
"""Data-parallel runs under mpirun against the single process (issue 16; driver only, the numbers come
from the C program). Every run uses one OpenMP thread per rank, so that 1 rank and N ranks compute
each micro-batch with the same thread count.

  mpi.py train HIPER WORKDIR   the quick job (configs/hiper_alfworld_quick.json, 2 steps): 1 rank, 2 ranks
                               (twice) and 3 ranks. Every step's trajectories are identical; every metric
                               agrees with the single process to TOL (relative, or absolute near 0);
                               two 2-rank runs are identical (metrics aside from timings, checkpoints
                               byte for byte); a 2-rank run stopped after a step resumes on 1 rank
  mpi.py fault HIPER WORKDIR   rank 1 killed (SIGKILL) after its first step's rollout: the job stops
                               with a non-zero exit, and the checkpoint left behind resumes on 2 ranks
                               to the uninterrupted run's metrics
  mpi.py sft HIPER WORKDIR     hiper sft on 1, 2 and 3 ranks: the same demonstrations, losses to TOL,
                               weights to WTOL
  mpi.py eval HIPER WORKDIR    hiper eval on 1, 2 and 3 ranks (7 games in batches of 3): identical
                               results and trajectories
"""
import json, math, os, shutil, struct, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = os.path.join(HERE, "..", "..", "configs", "hiper_alfworld_quick.json")
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]
# Summation order changes with the rank count (gradients summed per rank, then over ranks; each
# rank's rows scored as one batch): every training metric agrees to TOL relative (ABS near zero).
TOL, ABS = 1e-5, 1e-7
WTOL = 1e-5  # weights after SFT: absolute
TIMING = ("t_", "tokens_per_s")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(args, ok=True):
    print("$", " ".join(args), flush=True)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if env.get("ASAN_OPTIONS"):
        # Under ASan: full stacks for LeakSanitizer, so that tests/dist/lsan.supp recognises Open MPI's
        # allocations through its frames (the fast unwinder stops in Open MPI's plugins)
        env["ASAN_OPTIONS"] += ":fast_unwind_on_malloc=0"
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    print(p.stdout[-3000:])
    if ok and p.returncode != 0:
        fail(f"exit {p.returncode}: {' '.join(args)}")
    return p


def ranks(n, args):
    return args if n == 1 else MPIRUN + ["-np", str(n)] + args


def metrics(d):
    return [json.loads(l) for l in open(os.path.join(d, "metrics.jsonl"))]


def close(a, b, what):
    if a == b:
        return
    if not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        fail(f"{what}: {a!r} vs {b!r}")
    d = abs(a - b)
    if not (d <= ABS or d <= TOL * max(abs(a), abs(b))):
        fail(f"{what}: {a!r} vs {b!r} (differ by {d:.3g}, tolerance {TOL} relative, {ABS} absolute)")


def same_metrics(d1, d2, exact):
    m1, m2 = metrics(d1), metrics(d2)
    if len(m1) != len(m2):
        fail(f"{d1} has {len(m1)} metric lines, {d2} {len(m2)}")
    worst = 0.0
    for x, y in zip(m1, m2):
        if set(x) != set(y):
            fail(f"{d1} vs {d2}: keys differ at step {x.get('step')}")
        for k in x:
            if k.startswith(TIMING):
                continue
            what = f"{d2} {x['kind']} step {x['step']} {k}"
            if exact and x[k] != y[k]:
                fail(f"{what}: {x[k]!r} vs {y[k]!r} (must be identical)")
            close(x[k], y[k], what)
            if isinstance(x[k], float) and x[k] != y[k]:
                worst = max(worst, abs(x[k] - y[k]) / max(abs(x[k]), abs(y[k]), 1e-300))
    return worst


def same_rollouts(d1, d2):
    a = open(os.path.join(d1, "rollouts.jsonl")).read()
    b = open(os.path.join(d2, "rollouts.jsonl")).read()
    if a != b:
        fail(f"{d1}/rollouts.jsonl and {d2}/rollouts.jsonl differ (trajectories must be identical)")
    return a.count("\n")


def same_tree(d1, d2):
    for root, _, files in os.walk(d1):
        for f in files:
            p = os.path.join(root, f)
            q = os.path.join(d2, os.path.relpath(p, d1))
            if open(p, "rb").read() != open(q, "rb").read():
                fail(f"{q} differs from {p}")


def train(hiper, work):
    base = [hiper, "train", "--config", QUICK, "trainer.total_steps=2", "trainer.log_rollouts=true", "--quiet"]
    dirs = {}
    for n, name in [(1, "r1"), (2, "r2"), (2, "r2b"), (3, "r3")]:
        d = dirs[name] = os.path.join(work, name)
        run(ranks(n, base + ["--out", d]))
    for name in ["r2", "r3"]:
        lines = same_rollouts(dirs["r1"], dirs[name])
        worst = same_metrics(dirs["r1"], dirs[name], exact=False)
        print(f"{name}: {lines} trajectories identical to 1 rank; metrics within {worst:.2g} relative")
    same_metrics(dirs["r2"], dirs["r2b"], exact=True)
    same_rollouts(dirs["r2"], dirs["r2b"])
    same_tree(os.path.join(dirs["r2"], "ckpt"), os.path.join(dirs["r2b"], "ckpt"))
    print("two 2-rank runs: identical metrics and checkpoints")
    # --resume with another rank count: 2 ranks stop after step 1, 1 rank finishes
    d = os.path.join(work, "r2to1")
    run(ranks(2, base + ["--out", d, "--stop-after", "1"]))
    run([hiper, "train", "--out", d, "--resume", "--quiet"])
    same_metrics(dirs["r2"], d, exact=False)
    same_rollouts(dirs["r2"], d)
    print("2 ranks, then --resume on 1 rank: the 2-rank run's trajectories and metrics")
    # a rank count that does not divide the batch: 3 ranks for 4 task groups (above), and more ranks than
    # groups: 5 ranks for 4 groups (rank 4 plays nothing)
    d = os.path.join(work, "r5")
    run(ranks(5, base + ["--out", d, "trainer.total_steps=1", "trainer.final_eval_episodes=0",
                         "trainer.test_freq=0"]))
    r1 = [l for l in open(os.path.join(dirs["r1"], "rollouts.jsonl")) if json.loads(l)["step"] == 1]
    r5 = open(os.path.join(d, "rollouts.jsonl")).readlines()
    if r1 != r5:
        fail("5 ranks for 4 task groups: the first step's trajectories differ from 1 rank's")
    print("5 ranks for 4 groups: the first step's trajectories identical")


def fault(hiper, work):
    base = [hiper, "train", "--config", QUICK, "trainer.total_steps=2", "trainer.log_rollouts=true",
            "trainer.save_freq=1", "trainer.final_eval_episodes=0", "--quiet"]
    ref = os.path.join(work, "ref")
    run(ranks(2, base + ["--out", ref]))
    d = os.path.join(work, "killed")
    # MPMD: rank 1 kills itself (SIGKILL) after the rollout of step 2 (0-based step 1)
    args = MPIRUN + ["-np", "1"] + base + ["--out", d, ":", "-np", "1", "env", "HIPER_TEST_KILL=rollouts@1"] + base + [
        "--out", d]
    p = run(args, ok=False)
    if p.returncode == 0:
        fail("a rank killed with SIGKILL: the job exited 0")
    if "signal 9" not in p.stdout and "Killed" not in p.stdout:
        fail("the job's output does not say that a rank was killed")
    state = json.load(open(os.path.join(d, "ckpt", "latest", "state.json")))
    if state.get("next_step") != 1:
        fail(f"the checkpoint left behind is at step {state.get('next_step')}, expected 1")
    run(ranks(2, [hiper, "train", "--out", d, "--resume", "--quiet"]))
    same_metrics(ref, d, exact=True)
    same_rollouts(ref, d)
    print("killed rank: the job stopped (exit %d), the checkpoint resumed to the uninterrupted run" % p.returncode)


def safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    head = json.loads(b[8:8 + n])
    out = {}
    for k, v in head.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        out[k] = struct.unpack("<%df" % ((e - s) // 4), b[8 + n + s:8 + n + e])
    return out


def make_model(hiper, q):
    """The quick job's tokenizer and SFT-warmed policy (q/ref), from a one-step run."""
    run([hiper, "train", "--config", QUICK, "--out", q, "trainer.total_steps=1", "trainer.final_eval_episodes=0",
         "trainer.test_freq=0", "--quiet"])


def sft(hiper, work):
    q = os.path.join(work, "q")
    make_model(hiper, q)
    args = [hiper, "sft", "--model", os.path.join(q, "ref"), "--env", "alfworld", "--episodes", "4", "--epochs", "2",
            "--batch", "5", "--max-len", "360", "--max-steps", "12", "--quiet"]
    outs = {}
    for n in (1, 2, 3):
        o = os.path.join(work, f"sft{n}")
        p = run(ranks(n, args + ["--out", o]))
        lines = [l for l in p.stdout.splitlines() if l.startswith(("demonstrations:", "sft:"))]
        outs[n] = (o, lines)
    for n in (2, 3):
        l1, ln = outs[1][1], outs[n][1]
        if len(l1) != 2 or len(ln) != 2:
            fail(f"sft output lines missing: {l1} / {ln}")
        if l1[0].split(",")[:3] != ln[0].split(",")[:3]:
            fail(f"{n} ranks collected other demonstrations: {ln[0]!r} vs {l1[0]!r}")
        nums1 = [float(x) for x in l1[1].replace(";", " ").split() if x.replace(".", "").isdigit() and "." in x]
        numsn = [float(x) for x in ln[1].replace(";", " ").split() if x.replace(".", "").isdigit() and "." in x]
        for a, b in zip(nums1[1:], numsn[1:]):  # the first is the time
            if abs(a - b) > 1e-3:
                fail(f"{n} ranks: sft losses {ln[1]!r} vs {l1[1]!r}")
        w1 = safetensors(os.path.join(outs[1][0], "model.safetensors"))
        wn = safetensors(os.path.join(outs[n][0], "model.safetensors"))
        worst = max(abs(x - y) for k in w1 for x, y in zip(w1[k], wn[k]))
        if not worst <= WTOL:
            fail(f"{n} ranks: weights differ by {worst} after SFT (tolerance {WTOL})")
        print(f"sft on {n} ranks: losses as 1 rank's, weights within {worst:.2g}")


def evaluate(hiper, work):
    q = os.path.join(work, "q")
    make_model(hiper, q)
    args = [hiper, "eval", "--model", os.path.join(q, "ref"), "--split", "valid_seen", "--episodes", "7", "--batch",
            "3", "--max-steps", "6", "--json", "--quiet"]
    res = {}
    for n in (1, 2, 3):
        j = os.path.join(work, f"eval{n}.jsonl")
        p = run(ranks(n, args + ["--jsonl", j]))
        r = json.loads(p.stdout.strip().splitlines()[-1])
        r.pop("seconds", None)
        res[n] = (r, open(j).read())
    for n in (2, 3):
        if res[n][0] != res[1][0]:
            fail(f"{n} ranks: eval result {res[n][0]} differs from 1 rank's {res[1][0]}")
        if res[n][1] != res[1][1]:
            fail(f"{n} ranks: eval trajectories differ from 1 rank's")
    print("eval on 2 and 3 ranks: the single process's results and trajectories")


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("train", "fault", "sft", "eval"):
        print(__doc__)
        sys.exit(2)
    mode, hiper, work = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.join(sys.argv[3], sys.argv[1])
    if shutil.which("mpirun") is None:
        print("SKIP: mpirun not found (scripts/deps.sh test installs openmpi-bin)")
        sys.exit(77)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    {"train": train, "fault": fault, "sft": sft, "eval": evaluate}[mode](hiper, work)
    print("OK")


if __name__ == "__main__":
    main()
