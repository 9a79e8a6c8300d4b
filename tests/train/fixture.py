#!/usr/bin/python3
"""The quick job against a committed fixture: a restructuring must not change a single bit.

  fixture.py check  HIPER FIXTURE_DIR WORKDIR PLATFORM   run the jobs, compare with FIXTURE_DIR
  fixture.py update HIPER FIXTURE_DIR WORKDIR PLATFORM   run the jobs, (re)write FIXTURE_DIR

Two runs of `hiper train --quick` (one thread, fixed seeds): the quick job as it is, whose toy model
writes no valid turn, and `quick_sft`, the same with a longer SFT (warm-up steps included) so that its
rollouts have valid turns, SWITCHes and subgoals. For each, the fixture holds metrics.jsonl without its
timing fields (t_*, tokens_per_s), compared value by value as doubles, and the SHA-256 of what the run
wrote: the corpus and the tokenizer (demonstrations), ref/ (the SFT result, so the whole SFT loss curve),
the trajectories, the checkpoint's weights and optimizer states, and the evaluations (without their
"seconds"); plus SFT's logged loss lines.

Bits depend on the machine and the build (compiler, -march=native, OpenBLAS's kernels): PLATFORM names
the build (CMake passes compiler, version, build type and flags) and the CPU model is added here. On
another platform the check is skipped (exit 77) with a message; regenerate the fixture there with
`update` from a commit known to be good (the fixture says which commit it was taken from).
"""
import hashlib, json, os, re, shutil, subprocess, sys

RUNS = {
    "quick": [],
    "quick_sft": ["sft.episodes=24", "sft.epochs=4", "sft.lr=0.006"],
}
TIMING = ("t_", "tokens_per_s")
FILES = ["corpus.txt", "tokenizer/tokenizer.json", "ref/model.safetensors", "rollouts.jsonl",
         "ckpt/latest/actor/model.safetensors", "ckpt/latest/critic/model.safetensors",
         "ckpt/latest/actor_optim.safetensors", "ckpt/latest/critic_optim.safetensors",
         "ckpt/best/actor/model.safetensors"]
EVALS = ["eval_before.json", "eval_after.json"]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def platform(build):
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{build}; cpu {cpu}; {os.uname().machine}"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def drop_seconds(x):
    if isinstance(x, dict):
        return {k: drop_seconds(v) for k, v in x.items() if k != "seconds"}
    return x


def play(hiper, work, name, args):
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    cmd = [hiper, "train", "--quick", "--out", d] + args
    print("$", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=dict(os.environ, OMP_NUM_THREADS="1"))
    if p.returncode != 0:
        print(p.stdout[-3000:])
        fail(f"{name}: hiper train exited {p.returncode}")
    metrics = []
    with open(os.path.join(d, "metrics.jsonl")) as f:
        for line in f:
            metrics.append({k: v for k, v in json.loads(line).items() if not k.startswith(TIMING)})
    digests = {f: sha256(os.path.join(d, f)) for f in FILES}
    for f in EVALS:
        ev = drop_seconds(json.load(open(os.path.join(d, f))))
        digests[f + " (without seconds)"] = hashlib.sha256(json.dumps(ev, sort_keys=True).encode()).hexdigest()
    sft = [re.sub(r", [0-9.]+ s$", "", l.strip()) for l in p.stdout.splitlines()
           if l.startswith("sft: ") or re.match(r"\s+\d+ steps, loss ", l)]
    return metrics, {"files": digests, "sft_log": sft}


def head_commit():
    here = os.path.dirname(os.path.abspath(__file__))
    p = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    return p.stdout.strip() or "unknown"


def compare_metrics(name, want, got):
    if len(want) != len(got):
        fail(f"{name}: metrics.jsonl has {len(got)} records, the fixture {len(want)}")
    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            diff = {k: (w.get(k), g.get(k)) for k in sorted(set(w) | set(g)) if w.get(k) != g.get(k)}
            fail(f"{name}: metrics.jsonl record {i + 1} ({w.get('kind')} step {w.get('step')}) differs "
                 f"(fixture, now): {diff}")


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("check", "update"):
        print(__doc__)
        sys.exit(2)
    mode, hiper, fixdir, work, build = sys.argv[1:]
    here = platform(build)
    os.makedirs(work, exist_ok=True)
    pfile = os.path.join(fixdir, "platform.json")
    if mode == "check":
        recorded = json.load(open(pfile))
        if recorded["platform"] != here:
            print(f"SKIPPED: the fixture was recorded on\n  {recorded['platform']}\nand this is\n  {here}\n"
                  f"bits differ between builds and CPUs; regenerate it here with `{sys.argv[0]} update ...` "
                  f"from a commit known to be good (the fixture's: {recorded['commit']})")
            sys.exit(77)
    for name, args in RUNS.items():
        metrics, digests = play(hiper, work, name, args)
        mpath, dpath = os.path.join(fixdir, name, "metrics.jsonl"), os.path.join(fixdir, name, "digests.json")
        if mode == "update":
            os.makedirs(os.path.join(fixdir, name), exist_ok=True)
            with open(mpath, "w") as f:
                for r in metrics:
                    f.write(json.dumps(r) + "\n")
            with open(dpath, "w") as f:
                json.dump(digests, f, indent=1)
                f.write("\n")
            print(f"{name}: wrote {mpath} and {dpath}")
            continue
        want = [json.loads(l) for l in open(mpath)]
        compare_metrics(name, want, metrics)
        want_d = json.load(open(dpath))
        if want_d["sft_log"] != digests["sft_log"]:
            fail(f"{name}: SFT's log differs (fixture, now): {want_d['sft_log']} {digests['sft_log']}")
        bad = [f for f in want_d["files"] if want_d["files"][f] != digests["files"].get(f)]
        if bad:
            fail(f"{name}: the metrics agree but these outputs differ from the fixture's: {', '.join(bad)}")
        print(f"{name}: identical to the fixture ({len(metrics)} metrics records, {len(want_d['files'])} outputs)")
    if mode == "update":
        with open(pfile, "w") as f:
            json.dump({"platform": here, "commit": head_commit(), "runs": RUNS}, f, indent=1)  # HEAD of the checkout
            f.write("\n")
    print("fixture: ok")


if __name__ == "__main__":
    main()
