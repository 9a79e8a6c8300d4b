#!/usr/bin/python3
"""End-to-end checks of `hiper train` (driver only; the numbers come from the C program).

  e2e.py quick HIPER WORKDIR     `hiper train --quick`: exit 0, finite losses, well-formed outputs
  e2e.py resume HIPER WORKDIR    a run interrupted by kill -9 (and one stopped with --stop-after) and
                                 then resumed reproduces the uninterrupted run's metrics exactly
  e2e.py external HIPER WORKDIR  the same run on the built-in ALFWorld and on ALFWorld served by
                                 `hiper serve` through the external protocol gives identical metrics
                                 and trajectories; with a server that crashes (tests/external/
                                 toy_server.py) faults are counted and training goes on, and repeated
                                 failures stop the run with an error after saving a checkpoint
  e2e.py estimators HIPER WORKDIR  tiny runs of every shipped small config (GiGPO, GRPO, RLOO, PPO on
                                 ALFWorld and WebShop, HiPER on WebShop): exit 0, finite metrics
  e2e.py nonfinite HIPER WORKDIR   one non-finite gradient in the actor's, the critic's and SFT's
                                 optimizer step (HIPER_TEST_NAN_GRAD): the step is skipped, counted and
                                 warned about, and the run goes on (docs/training.md)
"""
import json, math, os, shutil, signal, subprocess, sys, time

TIMING = ("t_", "tokens_per_s")
TB_READER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "io", "tfevents_read.py")
TB = "trainer.logger=console,jsonl,tensorboard"


def check_tensorboard(d):
    """The run's TensorBoard events, read by an independent reader, match its metrics.jsonl."""
    p = run([sys.executable, TB_READER, "run", d])
    if p.returncode != 0:
        fail(f"{d}: tensorboard events: {p.stdout[-500:]}")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def read_metrics(d):
    rows = []
    with open(os.path.join(d, "metrics.jsonl")) as f:
        for n, line in enumerate(f, 1):
            try:
                rows.append(json.loads(line))
            except ValueError:
                fail(f"{d}/metrics.jsonl:{n}: not JSON: {line[:80]!r}")
    return rows


def check_finite(rows, d):
    for r in rows:
        for k, v in r.items():
            if isinstance(v, float) and not math.isfinite(v):
                fail(f"{d}: step {r.get('step')} key {k} = {v}")


def run(args, **kw):
    print("$", " ".join(args), flush=True)
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    print(p.stdout[-3000:])
    return p


def quick(hiper, work):
    d = os.path.join(work, "quick")
    shutil.rmtree(d, ignore_errors=True)
    t0 = time.time()
    p = run([hiper, "train", "--quick", "--out", d, TB])
    if p.returncode != 0:
        fail(f"hiper train --quick exited {p.returncode}")
    print(f"quick run: {time.time() - t0:.1f} s")
    rows = read_metrics(d)
    check_finite(rows, d)
    train = [r for r in rows if r.get("kind") == "train"]
    cfg = json.load(open(os.path.join(d, "run_config.json")))
    # one numbering: the n-th update is step n in metrics.jsonl and on the console ("step n/N")
    if [r["step"] for r in train] != list(range(1, cfg["trainer.total_steps"] + 1)):
        fail(f"train steps {[r['step'] for r in train]}")
    for n in range(1, cfg["trainer.total_steps"] + 1):
        if f"step {n:3d}/{cfg['trainer.total_steps']} |" not in p.stdout:
            fail(f"no console line for step {n}")
    for r in rows:
        if r.get("kind") == "val" and f"  val step {r['step']}: " not in p.stdout:
            fail(f"no console line for the validation at step {r['step']}")
    if "smoke run" not in p.stdout:
        fail("--quick does not say it is a smoke run")
    check_tensorboard(d)
    for r in train:
        for k in ("pg_loss", "kl", "entropy", "vf_loss_low", "vf_loss_high", "vf_loss_term", "success", "reward"):
            if k not in r:
                fail(f"step {r['step']}: no {k}")
    if not any(r.get("kind") == "val" for r in rows):
        fail("no validation line")
    for f in ("report.html", "eval_before.json", "eval_after.json", "ckpt/latest/state.json",
              "ckpt/latest/actor/model.safetensors", "ckpt/latest/critic/model.safetensors",
              "ckpt/best/state.json", "ref/config.json", "tokenizer/tokenizer.json",
              "ref/agent.json", "ckpt/latest/actor/agent.json"):
        if not os.path.exists(os.path.join(d, f)):
            fail(f"missing {f}")
    html = open(os.path.join(d, "report.html")).read()  # the charts are drawn from the inlined metrics
    if "<div id='charts'>" not in html or html.count('"kind":"train"') != cfg["trainer.total_steps"]:
        fail("report.html has no charts or not every training step")
    st = json.load(open(os.path.join(d, "ckpt/latest/state.json")))
    if st["next_step"] != cfg["trainer.total_steps"]:
        fail(f"state.json next_step {st['next_step']}")
    for f in ("eval_before.json", "eval_after.json"):
        ev = json.load(open(os.path.join(d, f)))
        if set(ev) != {"valid_seen", "valid_unseen"}:
            fail(f"{f}: splits {sorted(ev)}")
        for split, r in ev.items():  # every episode is kept, for a paired comparison
            if len(r["episode_won"]) != r["episodes"] or sum(r["episode_won"]) != r["won"]:
                fail(f"{f}: {split}: episode list does not match the counts")
            if not r["success_lo95"] <= r["success"] <= r["success_hi95"]:
                fail(f"{f}: {split}: success outside its interval")
    if "McNemar exact p" not in p.stdout:
        fail("no paired before/after comparison in the output")
    # hiper eval on the run directory: the run's environment and settings, both validation splits
    e = run([hiper, "eval", "--model", d, "--episodes", "3", "--json", "--quiet"])
    if e.returncode != 0:
        fail(f"hiper eval --model RUN_DIR exited {e.returncode}")
    out = json.loads(e.stdout)
    if set(out) != {"valid_seen", "valid_unseen"} or out["valid_seen"]["episodes"] != 3:
        fail(f"hiper eval --model RUN_DIR: {e.stdout[:200]}")
    e = run([hiper, "eval", "--model", os.path.join(d, "ckpt", "best"), "--env", "webshop", "--split", "test",
             "--episodes", "1", "--max-steps", "1", "--quiet"])
    if "trained on alfworld" not in e.stdout:
        fail("no warning for evaluating on another environment")
    print("quick: ok")


SMALL = [TB, "data.train_batch_size=2", "env.max_steps=6", "data.val_batch_size=2", "trainer.total_steps=3",
         "trainer.test_freq=2", "sft.episodes=4", "trainer.final_eval_episodes=0"]


def strip(rows):
    return [{k: v for k, v in r.items() if not k.startswith(TIMING)} for r in rows]


def compare(a, b, what):
    ra, rb = strip(read_metrics(a)), strip(read_metrics(b))
    if ra != rb:
        for x, y in zip(ra, rb):
            if x != y:
                diff = {k: (x.get(k), y.get(k)) for k in set(x) | set(y) if x.get(k) != y.get(k)}
                fail(f"{what}: step {x.get('step')} {x.get('kind')} differs: {diff}")
        fail(f"{what}: {len(ra)} lines vs {len(rb)}")
    print(f"{what}: {len(ra)} metric lines identical")


def prepared_copy(src, dst):
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(dst)
    for f in ("run_config.json", "tokenizer", "ref"):
        s = os.path.join(src, f)
        (shutil.copytree if os.path.isdir(s) else shutil.copy)(s, os.path.join(dst, f))


def resume(hiper, work):
    a = os.path.join(work, "resume_a")
    shutil.rmtree(a, ignore_errors=True)
    base = [hiper, "train", "--quick", "--quiet"] + SMALL
    if run(base + ["--out", a]).returncode != 0:
        fail("uninterrupted run failed")
    # --stop-after 1, then --resume
    b = os.path.join(work, "resume_b")
    prepared_copy(a, b)
    if run(base + ["--out", b, "--resume", "--stop-after", "1"]).returncode != 0:
        fail("first part failed")
    if len([r for r in read_metrics(b) if r["kind"] == "train"]) != 1:
        fail("--stop-after 1 did not stop after one step")
    if run([hiper, "train", "--quiet", "--out", b, "--resume"]).returncode != 0:
        fail("resumed run failed")
    compare(a, b, "stop-after + resume")
    # kill -9 once the first training step is in the metrics, then resume
    c = os.path.join(work, "resume_c")
    prepared_copy(a, c)
    p = subprocess.Popen(base + ["--out", c, "--resume"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mp = os.path.join(c, "metrics.jsonl")
    deadline = time.time() + 600
    while time.time() < deadline and p.poll() is None:
        if os.path.exists(mp) and any('"train"' in l for l in open(mp)):
            time.sleep(0.3)
            break
        time.sleep(0.05)
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
        p.wait()
        print("killed the run with SIGKILL")
    else:
        print("warning: the run ended before it could be killed")
    if run([hiper, "train", "--quiet", "--out", c, "--resume"]).returncode != 0:
        fail("run resumed after kill -9 failed")
    compare(a, c, "kill -9 + resume")
    for d in (a, b, c):  # a resumed run's event file replays metrics.jsonl: no step twice
        check_tensorboard(d)
    print("resume: ok")


TINY = ["trainer.total_steps=2", "sft.episodes=6", "sft.epochs=1", "trainer.final_eval_episodes=2",
        "data.val_batch_size=2", "env.max_steps=6", "data.train_batch_size=2", "model.hidden_size=64",
        "model.intermediate_size=128", "model.num_hidden_layers=2"]


def estimators(hiper, work):
    cfgdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "configs")
    names = sorted(f for f in os.listdir(cfgdir) if f.endswith("_small.json") and f != "hiper_alfworld_small.json")
    for name in names:
        d = os.path.join(work, "est_" + name[:-5])
        shutil.rmtree(d, ignore_errors=True)
        extra = ["env.rollout.n=2"] if name.split("_")[0] in ("gigpo", "grpo", "rloo") else []
        p = run([hiper, "train", "--quiet", "--config", os.path.join(cfgdir, name), "--out", d] + TINY + extra)
        if p.returncode != 0:
            fail(f"{name}: exit {p.returncode}")
        rows = read_metrics(d)
        check_finite(rows, d)
        if len([r for r in rows if r.get("kind") == "train"]) != 2:
            fail(f"{name}: expected 2 training steps")
        if not os.path.exists(os.path.join(d, "report.html")):
            fail(f"{name}: no report")
        print(f"{name}: ok")


def external(hiper, work):
    base = os.path.join(work, "ext_base")
    shutil.rmtree(base, ignore_errors=True)
    if run([hiper, "train", "--quick", "--quiet", "--out", base]).returncode != 0:
        fail("base run failed")
    model = os.path.join(base, "ckpt", "latest", "actor")
    runs = {}
    for name, extra in (("in_process", []), ("served", ["--env-cmd", f"{hiper} serve --env alfworld"])):
        d = os.path.join(work, "ext_" + name)
        shutil.rmtree(d, ignore_errors=True)
        p = run([hiper, "train", "--quick", "--quiet", "--out", d, "model.path=" + model, "sft.enable=false"] + extra)
        if p.returncode != 0:
            fail(f"{name}: exit {p.returncode}")
        # the served run also reports its server's counters (env_faults, env_restarts, env_truncated)
        rows = [{k: v for k, v in r.items() if not k.startswith("env_")} for r in strip(read_metrics(d))]
        runs[name] = (rows, open(os.path.join(d, "rollouts.jsonl")).read())
    a, b = runs["in_process"], runs["served"]
    if not a[0] or a[0] != b[0]:
        fail("metrics differ between the built-in and the served environment")
    if not a[1] or a[1] != b[1]:
        fail("trajectories differ between the built-in and the served environment")
    print(f"external: {len(a[0])} metric lines and {a[1].count(chr(10))} trajectories identical")
    external_faults(hiper, work, model)


def external_faults(hiper, work, model):
    toy = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "external", "toy_server.py")
    common = ["--quick", "--quiet", "model.path=" + model, "sft.enable=false", "env.name=external",
              "env.train_split=train", "env.val_split=test", "env.test_split=test",
              "trainer.final_eval_episodes=0", "trainer.val_before_train=false"]

    def opts(crash_at):
        return "env.options=" + json.dumps({"cmd": f"/usr/bin/python3 {toy} --crash {crash_at}", "max_restarts": 1})

    # Every server process crashes at its 6th request: episodes end truncated, the run goes on.
    d = os.path.join(work, "ext_faults")
    shutil.rmtree(d, ignore_errors=True)
    p = run([hiper, "train", "--out", d, opts(6)] + common)
    if p.returncode != 0:
        fail(f"a run with occasional server crashes exited {p.returncode}")
    train = [r for r in read_metrics(d) if r.get("kind") == "train"]
    if not train or train[-1].get("env_faults", 0) < 1 or train[-1].get("env_truncated", 0) < 1:
        fail(f"faults not in the metrics: {train[-1] if train else None}")
    # Every process crashes at its 2nd request: past max_restarts the run stops with a clear error
    # and leaves a checkpoint to resume from.
    d = os.path.join(work, "ext_giveup")
    shutil.rmtree(d, ignore_errors=True)
    p = run([hiper, "train", "--out", d, opts(2)] + common)
    if p.returncode != 1 or "in a row" not in p.stdout or "checkpoint saved" not in p.stdout:
        fail(f"giving up: exit {p.returncode}, output {p.stdout[-400:]!r}")
    if not os.path.exists(os.path.join(d, "ckpt", "latest", "state.json")):
        fail("giving up left no checkpoint")
    print("external faults: ok")


def nonfinite(hiper, work):
    """PPO and SFT follow one policy (src/train/optstep.c): a step whose gradient is not finite is skipped."""
    for point in ("actor@2", "critic@1", "sft@3"):
        what = point.split("@")[0]
        d = os.path.join(work, "nonfinite_" + what)
        shutil.rmtree(d, ignore_errors=True)
        p = run([hiper, "train", "--quick", "--out", d, "trainer.final_eval_episodes=0"],
                env=dict(os.environ, HIPER_TEST_NAN_GRAD=point))
        if p.returncode != 0:
            fail(f"{point}: hiper train exited {p.returncode}")
        if f"hiper: warning: {what}: optimizer step skipped: optimizer step {point.split('@')[1]}: " not in p.stdout:
            fail(f"{point}: no warning naming the skipped step")
        rows = read_metrics(d)
        check_finite(rows, d)
        skipped = sum(r["skipped_steps"] for r in rows if r.get("kind") == "train")
        if skipped != (0 if what == "sft" else 1):
            fail(f"{point}: skipped_steps add up to {skipped}")
        if what == "sft" and "1 of the steps skipped: their gradient was not finite" not in p.stdout:
            fail("SFT does not report its skipped step")
    print("nonfinite: ok")


if __name__ == "__main__":
    mode, hiper, work = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(work, exist_ok=True)
    {"quick": quick, "resume": resume, "estimators": estimators, "external": external,
     "nonfinite": nonfinite}[mode](hiper, work)
