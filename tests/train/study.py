#!/usr/bin/python3
"""hiper study end to end on a tiny study: a warm start recipe (the quick job's SFT) trained once, two
methods (HAE, and GRPO in groups of 2) x two seeds at the same budget of 8 training episodes, two cells at a
time with one thread each, three evaluation games per split.

Checks: `plan` lists the cells and their commands; `run --only` runs a subset; a cell stopped by the
runner's SIGTERM and one left by `hiper train --stop-after 1` resume with --resume and finish; every
summary holds per-type success with Wilson intervals, every game's outcome, the learning curve, the wall
time and a command that `hiper train --print-config` accepts; `table` rebuilds the same tables from a copy
of the summaries alone, with the paired counts and McNemar p computed here from the outcome bits; `report`
overlays the cells' runs.

  study.py HIPER SOURCE_DIR WORKDIR
"""
import json, math, os, re, shlex, shutil, signal, subprocess, sys, time


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    return p


def mcnemar(b, c):
    n, m = b + c, min(b, c)
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(m + 1)) / 2 ** n)


def main(hiper, src, work):
    hiper = os.path.abspath(hiper)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.chdir(work)
    quick = os.path.join(src, "configs", "hiper_alfworld_quick.json")
    study = {
        "name": "tiny", "description": "the study runner's test (a smoke run: its numbers mean nothing)",
        "jobs": 2, "threads": 1, "eval_episodes": 3,
        "budget": {"episodes": 8},
        "seeds": [1, 2],
        "keys": {"trainer.test_freq": 1, "data.val_batch_size": 2, "env.max_steps": 6},
        "warm_starts": {"quick": {"config": quick, "keys": {"sft.episodes": 6, "env.max_steps": 6}}},
        "envs": {"alfworld": {"warm_start": "quick"}},
        "methods": {
            "hiper": {"config": quick},
            "grpo": {"config": quick, "keys": {"algorithm.adv_estimator": "grpo", "data.train_batch_size": 2,
                                                "env.rollout.n": 2}},
        },
    }
    json.dump(study, open("study.json", "w"), indent=1)

    # plan: four cells, commands that hiper train accepts, the budget in steps
    p = run([hiper, "study", "plan", "study.json"])
    if p.returncode != 0:
        fail(f"plan exited {p.returncode}: {p.stderr}")
    for want in ("hiper-alfworld-s1: to run, 2 steps of 4 episodes", "grpo-alfworld-s2: to run, 2 steps of 4 episodes",
                 "warm start quick: to train"):
        if want not in p.stdout:
            fail(f"plan lacks {want!r}:\n{p.stdout}")
    cmds = {m.group(1): m.group(2) for m in re.finditer(r"^(\S+-s\d): .*\n  (.*)$", p.stdout, re.M)}
    if len(cmds) != 4:
        fail(f"plan: {len(cmds)} cell commands")
    # a budget that is not a whole number of steps is refused
    bad = dict(study, budget={"episodes": 6})
    json.dump(bad, open("bad.json", "w"))
    p = run([hiper, "study", "plan", "bad.json"])
    if p.returncode != 1 or "not a whole number of steps" not in p.stderr:
        fail(f"budget of 6 episodes: exit {p.returncode} {p.stderr}")

    # run the hiper cells only
    t0 = time.time()
    p = run([hiper, "study", "run", "study.json", "--only", "hiper-*"])
    if p.returncode != 0:
        fail(f"run --only exited {p.returncode}: {p.stdout}\n{p.stderr}")
    for c in ("hiper-alfworld-s1", "hiper-alfworld-s2"):
        if not os.path.exists(f"studies/tiny/cells/{c}.json"):
            fail(f"no summary of {c}")
    if os.path.exists("studies/tiny/cells/grpo-alfworld-s1.json"):
        fail("--only ran a cell it excludes")
    print(f"warm start and 2 cells: {time.time() - t0:.1f} s")

    # a cell left mid-run by hiper train --stop-after 1 is resumed with --resume
    argv = shlex.split(cmds["grpo-alfworld-s1"])
    p = run(argv + ["--stop-after", "1", "--quiet"])
    if p.returncode != 0 or not os.path.isdir("runs/study_tiny/grpo-alfworld-s1/ckpt/latest"):
        fail(f"the cell's own command with --stop-after 1: exit {p.returncode} {p.stderr}")
    # the runner stopped by SIGTERM while the other grpo cell runs: exit 130, no child left behind
    r = subprocess.Popen([hiper, "study", "run", "study.json", "--only", "grpo-alfworld-s2"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not os.path.exists("runs/study_tiny/grpo-alfworld-s2/ckpt/latest"):
        time.sleep(0.05)
    r.send_signal(signal.SIGTERM)
    out, err = r.communicate(timeout=60)
    if r.returncode == 0 and os.path.exists("studies/tiny/cells/grpo-alfworld-s2.json"):
        print("the cell finished before the signal (a fast machine): the interruption was not exercised")
    elif r.returncode != 130 or "resumes it cell by cell" not in err:
        fail(f"SIGTERM: exit {r.returncode}: {err}")
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        if "study_tiny/grpo-alfworld-s2" in cmdline and int(pid) != os.getpid():
            left.append(pid)
    if left:
        fail(f"processes left behind: {left}")

    # the rest: both grpo cells resume (or start) and finish; the tables are written
    p = run([hiper, "study", "run", "study.json"])
    if p.returncode != 0:
        fail(f"run exited {p.returncode}: {p.stdout}\n{p.stderr}")
    if "grpo-alfworld-s1: resumed" not in p.stdout or "2 done, 2 to run" not in p.stdout:
        fail(f"the resumed run said:\n{p.stdout}")
    log = open("runs/study_tiny/grpo-alfworld-s1.log").read()
    if "--resume" not in log:
        fail("grpo-alfworld-s1's log shows no --resume")

    # the summaries
    sums = {}
    for c in cmds:
        s = json.load(open(f"studies/tiny/cells/{c}.json"))
        sums[c] = s
        for k in ("study", "cell", "method", "env", "seed", "adv_estimator", "budget", "warm_start", "command", "wall_s",
                  "eval_after", "eval_before", "curve", "threads"):
            if k not in s:
                fail(f"{c}: summary lacks {k}")
        if s["budget"] != {"episodes": 8, "steps": 2, "episodes_per_step": 4}:
            fail(f"{c}: budget {s['budget']}")
        if s["curve"]["step"] != [1, 2] or s["curve"]["episodes"] != [4, 8] or len(s["curve"]["success"]) != 2:
            fail(f"{c}: curve {s['curve']}")
        if s["wall_s"] <= 0 or s["threads"] != 1:
            fail(f"{c}: wall {s['wall_s']} threads {s['threads']}")
        for split in ("valid_seen", "valid_unseen"):
            e = s["eval_after"][split]
            if e["games"] != 3 or len(e["outcomes"]) != 3 or e["won"] != e["outcomes"].count("1"):
                fail(f"{c} {split}: {e}")
            if not (e["lo95"] <= e["success"] <= e["hi95"]) or not e["types"]:
                fail(f"{c} {split}: interval or types {e}")
            for t, v in e["types"].items():
                if not (v["lo95"] <= v["success"] <= v["hi95"]):
                    fail(f"{c} {split} {t}: {v}")
        # the command is hiper train's, with the keys that make the cell
        argv = shlex.split(s["command"])
        for want in ("trainer.seed=%d" % s["seed"], "trainer.total_steps=2", "trainer.threads=1", "sft.enable=false",
                     "trainer.experiment_name=" + c, "model.path=runs/study_tiny/warm_start/quick/ref"):
            if want not in argv:
                fail(f"{c}: the command lacks {want}: {s['command']}")
        p = run(argv + ["--print-config"])
        if p.returncode != 0:
            fail(f"{c}: its command with --print-config: {p.stderr}")
    if sums["grpo-alfworld-s1"]["invocations"] != 1:  # the runner's own (the --stop-after run above was by hand)
        fail(f"grpo-alfworld-s1: {sums['grpo-alfworld-s1']['invocations']} invocations recorded, 1 expected")
    if sums["hiper-alfworld-s1"]["adv_estimator"] != "hae" or sums["grpo-alfworld-s1"]["adv_estimator"] != "grpo":
        fail("estimators in the summaries")

    # the tables from the summaries alone: the same text from a copy without any run directory
    table = open("studies/tiny/tables.md").read()
    os.makedirs("copy", exist_ok=True)
    shutil.copytree("studies/tiny/cells", "copy/cells")
    p = run([hiper, "study", "table", "copy"])
    if p.returncode != 0:
        fail(f"table on the copy: {p.stderr}")
    if p.stdout.replace("copy", "studies/tiny") != table:
        fail("the tables from the copied summaries differ from tables.md")
    p = run([hiper, "study", "table", "study.json"])
    if p.returncode != 0 or p.stdout != table:
        fail("table STUDY.json differs from tables.md")
    for want in ("## alfworld (alfworld)", "**valid_seen**", "| hiper | 2 | 3 |", "| grpo | 2 | 3 |",
                 "before RL (warm start quick", "hiper against each other method", "**Learning curve**",
                 "**Budget and time**", "| hiper | hae | 2 | 8 | 2 x 4 |", "# warm start quick"):
        if want not in table:
            fail(f"tables.md lacks {want!r}:\n{table}")
    # the paired counts and p values, recomputed here from the outcome bits
    for split in ("valid_seen", "valid_unseen", "all splits"):
        b = c = n = 0
        for seed in (1, 2):
            for sp in (("valid_seen", "valid_unseen") if split == "all splits" else (split,)):
                x = sums[f"hiper-alfworld-s{seed}"]["eval_after"][sp]["outcomes"]
                y = sums[f"grpo-alfworld-s{seed}"]["eval_after"][sp]["outcomes"]
                n += len(x)
                b += sum(1 for u, v in zip(x, y) if u == "1" and v != "1")
                c += sum(1 for u, v in zip(x, y) if u != "1" and v == "1")
        m = re.search(r"^\| hiper vs grpo \| %s \| 2 \| (\d+) \| (\d+) \| (\d+) \| ([-+0-9.]+) \| ([0-9.e+-]+) \|$"
                      % re.escape(split), table, re.M)
        if not m:
            fail(f"no paired row for {split}:\n{table}")
        got = tuple(int(m.group(i)) for i in (1, 2, 3))
        if got != (n, b, c) or abs(float(m.group(5)) - mcnemar(b, c)) > 1e-3 * max(1e-3, mcnemar(b, c)) + 5e-4:
            fail(f"{split}: table {m.groups()}, recomputed n={n} b={b} c={c} p={mcnemar(b, c)}")
    # the mean ± sd over seeds of the 'all' column, recomputed
    for meth in ("hiper", "grpo"):
        v = [100 * sums[f"{meth}-alfworld-s{s}"]["eval_after"]["valid_seen"]["success"] for s in (1, 2)]
        mean, sd = sum(v) / 2, abs(v[0] - v[1]) / math.sqrt(2)
        want = f"{mean:.1f} ± {sd:.1f}"
        row = re.search(r"^\| %s \| 2 \| 3 \|.*$" % meth, table.split("**valid_unseen**")[0], re.M).group(0)
        if want not in row:
            fail(f"{meth} valid_seen: {want} not in {row}")

    # the overlay of the cells' runs, labelled by method
    p = run([hiper, "study", "report", "study.json", "--out", "page.html"])
    if p.returncode != 0 or "(4 runs)" not in p.stdout:
        fail(f"study report: {p.returncode} {p.stdout} {p.stderr}")
    html = open("page.html").read()
    if "4 runs in 2 groups" not in html or "<td>grpo</td><td>2</td>" not in html:
        fail("the overlay page's runs and labels")
    # a finished study: run does nothing
    p = run([hiper, "study", "run", "study.json"])
    if p.returncode != 0 or "4 done, 0 to run" not in p.stdout:
        fail(f"run of a finished study: {p.stdout} {p.stderr}")
    print(f"study: ok ({time.time() - t0:.1f} s)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
