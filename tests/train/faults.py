#!/usr/bin/python3
"""Fault tests of the trainer's run directory (docs/reliability.md, "Resume and checkpoints"). The
driver only: every number and file comes from the C program. Each part compares against an
uninterrupted run of the same seed, which the trainer reproduces bit for bit (one OpenMP thread).

  faults.py kill HIPER WORK     kill -9 at every named point of a run (HIPER_TEST_KILL: checkpoint
                                writes, metric and trajectory lines, validations, the evaluations,
                                the report), several kills in a row, and kills at random moments
                                from the very start; each followed by --resume: metrics.jsonl,
                                rollouts.jsonl, the evaluations and the checkpoints' bytes equal the
                                uninterrupted run's
  faults.py resume HIPER WORK   a finished run resumed is a no-op that says so; killed during the
                                final evaluation, resume redoes it; no duplicated trajectories;
                                --resume without a run is an error; resuming an external run names
                                the server command it starts
  faults.py ckpt HIPER WORK     damaged and partial checkpoints (a deleted optimizer state, flipped
                                weight bytes, next_step out of range, no manifest, ...): one error
                                naming the file or key and nothing changed; interrupted swaps and
                                torn lines are repaired and the run reproduces the uninterrupted one
  faults.py lock HIPER WORK     a second hiper train on a run directory in use fails at once
  faults.py disk HIPER WORK     a full disk (a small tmpfs) and a read-only output directory: a clean
                                error naming the file and the reason, then --resume reproduces the
                                uninterrupted run (skipped, exit 77, where nothing can be mounted)
"""
import hashlib, json, os, random, shutil, signal, subprocess, sys, time

# The quick job cut to about half a second of CPU per run: 3 steps of 2 episodes of at most 3 turns, a
# validation before steps 0 and 2 and after step 3, one game per split before and after RL.
TINY = ["--quick", "--quiet", "data.train_batch_size=2", "env.max_steps=3", "data.max_response_length=24",
        "data.val_batch_size=1", "trainer.total_steps=3", "trainer.test_freq=2", "sft.episodes=4",
        "trainer.final_eval_episodes=1"]
TIMING = ("t_", "tokens_per_s")
SKIP = 77


def fail(msg):
    print("FAIL:", msg, flush=True)
    sys.exit(1)


def run(args, env_add=None, quiet=False, **kw):
    env = dict(os.environ)
    env.pop("HIPER_TEST_KILL", None)
    env.update(env_add or {})
    if not quiet:
        print("$", " ".join(f"{k}={v}" for k, v in (env_add or {}).items()), " ".join(args), flush=True)
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **kw)


def train(hiper, d, *extra, kill=None, resume=True):
    return run([hiper, "train", "--out", d] + (["--resume"] if resume else TINY) + list(extra),
               {"HIPER_TEST_KILL": kill} if kill else None)


def expect_ok(p, what):
    if p.returncode != 0:
        fail(f"{what}: exit {p.returncode}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")


def expect_killed(p, what):
    if p.returncode != -signal.SIGKILL:
        fail(f"{what}: expected to be killed at its kill point, got exit {p.returncode}\n{p.stderr[-2000:]}")


def expect_error(p, what, *needles):
    """Exit 1 with one error line naming every needle."""
    errs = [l for l in p.stderr.splitlines() if l.startswith("hiper: error:")]
    if p.returncode != 1 or len(errs) != 1 or not all(n in errs[0] for n in needles):
        fail(f"{what}: expected exit 1 and one error naming {needles}; got exit {p.returncode}, stderr:\n"
             f"{p.stderr[-2000:]}")
    print(f"  {what}: {errs[0]}")


# ---- outputs of a run, and their comparison ----------------------------------------------------------

def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f]


def manifest_files(d, ck):
    p = os.path.join(d, "ckpt", ck, "manifest.json")
    return json.load(open(p))["files"] if os.path.exists(p) else None


def outputs(d):
    """What a finished run leaves, timings aside."""
    out = {
        "metrics.jsonl": [{k: v for k, v in r.items() if not k.startswith(TIMING)}
                          for r in read_jsonl(os.path.join(d, "metrics.jsonl"))],
        "rollouts.jsonl": open(os.path.join(d, "rollouts.jsonl")).read()
        if os.path.exists(os.path.join(d, "rollouts.jsonl")) else None,
        "ckpt/latest": manifest_files(d, "latest"),
        "ckpt/best": manifest_files(d, "best"),
        "report.html": os.path.exists(os.path.join(d, "report.html")),
    }
    for f in ("eval_before.json", "eval_after.json"):
        p = os.path.join(d, f)
        out[f] = {s: {k: v for k, v in r.items() if k != "seconds"} for s, r in json.load(open(p)).items()} \
            if os.path.exists(p) else None
    for f in ("tokenizer/tokenizer.json", "ref/model.safetensors", "ref/agent.json", "run_config.json"):
        p = os.path.join(d, f)
        out[f] = hashlib.sha256(open(p, "rb").read()).hexdigest() if os.path.exists(p) else None
    return out


def same(ref, d, what):
    a, b = outputs(ref), outputs(d)
    for k in a:
        if a[k] != b[k]:
            if k == "metrics.jsonl":
                for i, (x, y) in enumerate(zip(a[k], b[k])):
                    if x != y:
                        fail(f"{what}: metrics.jsonl line {i + 1} differs: {x} vs {y}")
                fail(f"{what}: metrics.jsonl has {len(b[k])} lines, the uninterrupted run {len(a[k])}")
            if k == "rollouts.jsonl" and a[k] and b[k]:
                fail(f"{what}: rollouts.jsonl has {b[k].count(chr(10))} trajectories, the uninterrupted run "
                     f"{a[k].count(chr(10))} (or they differ)")
            fail(f"{what}: {k} differs from the uninterrupted run's")
    print(f"  {what}: same as the uninterrupted run ({len(a['metrics.jsonl'])} metric lines, "
          f"{a['rollouts.jsonl'].count(chr(10))} trajectories, identical checkpoints)", flush=True)


def snapshot(d):
    """Every file's bytes (the lock's pid aside): to show that a refused resume changed nothing."""
    snap = {}
    for root, dirs, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            rel = os.path.relpath(p, d)
            if rel != "lock":
                snap[rel] = hashlib.sha256(open(p, "rb").read()).hexdigest()
        for x in dirs:
            snap[os.path.relpath(os.path.join(root, x), d) + "/"] = "dir"
    return snap


def unchanged(before, d, what):
    after = snapshot(d)
    if before != after:
        diff = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        fail(f"{what}: the run directory changed: {diff[:8]}")


def reference(hiper, work):
    """The uninterrupted run, and how long it took."""
    r = os.path.join(work, "reference")
    shutil.rmtree(r, ignore_errors=True)
    t0 = time.time()
    expect_ok(train(hiper, r, resume=False), "the uninterrupted run")
    return r, time.time() - t0


def prepared(ref, d):
    """A run directory prepared up to its first step (configuration, tokenizer, initial policy and its
    evaluation), copied from the reference run, so that the tests spend their time on the RL loop."""
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for f in ("run_config.json", "tokenizer", "ref", "eval_before.json"):
        s = os.path.join(ref, f)
        (shutil.copytree if os.path.isdir(s) else shutil.copy)(s, os.path.join(d, f))
    return d


def stopped_after(hiper, ref, d, n):
    prepared(ref, d)
    expect_ok(train(hiper, d, "--stop-after", str(n)), f"{n} steps")
    return d


# ---- parts ------------------------------------------------------------------------------------------

# Every named point of a 3-step run (step = the training step about to be done, 0-based; checkpoints by
# the step they resume at): the initial checkpoint, the best checkpoint of the first validation, every
# step's trajectories and metrics line, the checkpoint of steps 1 and 3 (files written but no manifest;
# complete but not swapped in), the validations, the final evaluation midway and before its file, and
# the report.
POINTS = ["ckpt.latest.files@0", "ckpt.latest.manifest@0", "val@0", "ckpt.best.files@0", "ckpt.best.manifest@0",
          "rollouts@0", "metrics@0", "ckpt.latest.files@1", "ckpt.latest.manifest@1", "rollouts@1", "metrics@1",
          "ckpt.latest.manifest@2", "val@2", "rollouts@2", "metrics@2", "val@3", "ckpt.latest.files@3",
          "ckpt.latest.manifest@3", "eval_after.json@0", "eval_after.json@1", "report@3"]


def part_kill(hiper, work):
    ref, wall = reference(hiper, work)
    # one kill at every point, then --resume
    for i, point in enumerate(POINTS):
        d = prepared(ref, os.path.join(work, f"kill{i}"))
        expect_killed(train(hiper, d, kill=point), point)
        expect_ok(train(hiper, d), f"resume after kill -9 at {point}")
        same(ref, d, f"kill -9 at {point}")
        shutil.rmtree(d)
    # several kills in a row on one directory
    d = prepared(ref, os.path.join(work, "kill_chain"))
    for point in ("metrics@0", "ckpt.latest.manifest@2", "val@3", "eval_after.json@0", "report@3"):
        expect_killed(train(hiper, d, kill=point), point)
    expect_ok(train(hiper, d), "resume after five kills")
    same(ref, d, "five kills in a row")
    # from the very start: killed in the evaluation before RL (tokenizer and SFT done)
    d = os.path.join(work, "kill_start")
    shutil.rmtree(d, ignore_errors=True)
    expect_killed(train(hiper, d, kill="eval_before.json@0", resume=False), "eval_before.json@0")
    expect_ok(train(hiper, d), "resume after a kill in the evaluation before RL")
    same(ref, d, "kill -9 in the evaluation before RL")
    # at random moments from the very start (tokenizer training, SFT, anything), several times in a row
    # (how many land before the run ends depends on the machine's speed; the named points above are
    # the guarantee)
    rng = random.Random(15)
    for chain in range(3):
        d = os.path.join(work, f"kill_random{chain}")
        shutil.rmtree(d, ignore_errors=True)
        kills = 0
        for attempt in range(8):
            args = [hiper, "train", "--out", d] + (["--resume"] if os.path.exists(os.path.join(d, "run_config.json"))
                                                  else TINY)
            p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            delay = rng.uniform(0.0, 0.3 * wall)
            try:
                p.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGKILL)
            err = p.communicate()[1]
            if p.returncode == 0:
                break
            if p.returncode != -signal.SIGKILL:
                fail(f"random kills, chain {chain}: exit {p.returncode}: {err[-1500:]}")
            kills += 1
        p = run([hiper, "train", "--out", d] + (["--resume"] if os.path.exists(os.path.join(d, "run_config.json"))
                                               else TINY))
        expect_ok(p, f"random kills, chain {chain}: the last resume")
        same(ref, d, f"{kills} kills at random moments (chain {chain})")
    print("kill: ok")


def part_resume(hiper, work):
    ref, _ = reference(hiper, work)
    # a finished run resumed: exit 0, says so, changes nothing (metrics.jsonl keeps its final validation)
    d = os.path.join(work, "finished")
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(ref, d)
    before = snapshot(d)
    for extra in ([], ["--quiet"]):
        p = run([hiper, "train", "--out", d, "--resume"] + extra)
        expect_ok(p, "resuming a finished run")
        if "nothing to do" not in p.stdout:
            fail(f"resuming a finished run does not say so: {p.stdout[-500:]!r}")
        unchanged(before, d, "resuming a finished run")
    print("  a finished run resumed: exit 0, 'nothing to do', every file unchanged")
    # killed during the final evaluation: the final validation line stays, the evaluation is redone
    d = prepared(ref, os.path.join(work, "final_eval"))
    expect_killed(train(hiper, d, kill="eval_after.json@0"), "eval_after.json@0")
    if outputs(d)["metrics.jsonl"] != outputs(ref)["metrics.jsonl"]:
        fail("killed during the final evaluation: metrics.jsonl is not yet the finished run's")
    p = train(hiper, d)
    expect_ok(p, "resume after a kill during the final evaluation")
    if "nothing to do" in p.stdout or not os.path.exists(os.path.join(d, "eval_after.json")):
        fail("the final evaluation was not redone")
    same(ref, d, "killed during the final evaluation")
    # the reproducer: killed just after a step's metrics line: no duplicated trajectories
    for point in ("metrics@0", "metrics@1"):
        d = prepared(ref, os.path.join(work, "dup_" + point.replace("@", "")))
        expect_killed(train(hiper, d, kill=point), point)
        expect_ok(train(hiper, d), "resume")
        n, m = [open(os.path.join(x, "rollouts.jsonl")).read().count("\n") for x in (d, ref)]
        if n != m:
            fail(f"killed at {point}: rollouts.jsonl holds {n} trajectories, the uninterrupted run {m}")
        same(ref, d, f"killed at {point}")
    # --resume without a run
    d = stopped_after(hiper, ref, os.path.join(work, "no_config"), 1)
    os.remove(os.path.join(d, "run_config.json"))
    before = snapshot(d)
    expect_error(train(hiper, d), "--resume without run_config.json", "run_config.json", "missing")
    unchanged(before, d, "--resume without run_config.json")
    d = os.path.join(work, "no_such_dir")
    shutil.rmtree(d, ignore_errors=True)
    expect_error(train(hiper, d), "--resume on a missing directory", d)
    if os.path.exists(d):
        fail("--resume on a missing directory created it")
    # a run with an external environment: resuming says which server command it starts, before it does
    d = os.path.join(work, "external")
    shutil.rmtree(d, ignore_errors=True)
    server = f"{hiper} serve --env alfworld"
    expect_ok(run([hiper, "train", "--out", d] + TINY + ["model.path=" + os.path.join(ref, "ckpt", "latest", "actor"),
                                                         "sft.enable=false", "trainer.final_eval_episodes=0",
                                                         "--env-cmd", server, "--stop-after", "1"]), "an external run")
    p = train(hiper, d, "--quiet")
    expect_ok(p, "resuming an external run")
    if f"starts the environment server that its run_config.json names: {server}" not in p.stdout:
        fail(f"resuming an external run does not say which server it starts: {p.stdout[-500:]!r}")
    print("  resuming an external run names its server command")
    # a plain start on a directory holding a run
    d = os.path.join(work, "finished")
    before = snapshot(d)
    expect_error(train(hiper, d, resume=False), "a new run over a finished one", "--resume")
    unchanged(before, d, "a new run over a finished one")
    print("resume: ok")


def flip_byte(path, at):
    with open(path, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x5A]))


def set_state(d, **kv):
    p = os.path.join(d, "ckpt", "latest", "state.json")
    st = json.load(open(p))
    for k, v in kv.items():
        if v is None:
            st.pop(k, None)
        else:
            st[k] = v
    open(p, "w").write(json.dumps(st))


def part_ckpt(hiper, work):
    ref, _ = reference(hiper, work)
    base = stopped_after(hiper, ref, os.path.join(work, "two_steps"), 2)
    latest = os.path.join(base, "ckpt", "latest")
    for f in ("actor_optim.safetensors", "critic_optim.safetensors", "manifest.json"):
        if not os.path.exists(os.path.join(latest, f)):
            fail(f"a checkpoint after two steps has no {f}")

    def case(name, mutate, *needles):
        d = os.path.join(work, "ck_" + name)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(base, d)
        lat = os.path.join(d, "ckpt", "latest")
        mutate(d, lat)
        before = snapshot(d)
        expect_error(train(hiper, d), name, *needles)
        unchanged(before, d, name)
        shutil.rmtree(d)

    st = lambda **kv: (lambda d, lat: set_state(d, **kv))
    case("deleted actor_optim", lambda d, lat: os.remove(os.path.join(lat, "actor_optim.safetensors")),
         "ckpt/latest/actor_optim.safetensors", "missing")
    case("deleted critic_optim", lambda d, lat: os.remove(os.path.join(lat, "critic_optim.safetensors")),
         "ckpt/latest/critic_optim.safetensors", "missing")
    case("deleted critic", lambda d, lat: shutil.rmtree(os.path.join(lat, "critic")), "ckpt/latest/critic/", "missing")
    case("flipped weight byte", lambda d, lat: flip_byte(os.path.join(lat, "actor", "model.safetensors"),
                                                         os.path.getsize(os.path.join(lat, "actor", "model.safetensors")) // 2),
         "ckpt/latest/actor/model.safetensors", "checksum")
    case("flipped optimizer byte", lambda d, lat: flip_byte(os.path.join(lat, "critic_optim.safetensors"), 4000),
         "ckpt/latest/critic_optim.safetensors", "checksum")
    case("truncated critic weights", lambda d, lat: os.truncate(os.path.join(lat, "critic", "model.safetensors"),
                                                                os.path.getsize(os.path.join(lat, "critic", "model.safetensors")) - 100),
         "ckpt/latest/critic/model.safetensors", "bytes")
    case("next_step -1", st(next_step=-1), "state.json", "'next_step'")
    case("next_step 99", st(next_step=99), "state.json", "'next_step'", "total_steps")
    case("next_step 1.5", st(next_step=1.5), "state.json", "'next_step'", "integer")
    case("no next_step", st(next_step=None), "state.json", "'next_step'")
    def rewind(d, lat):  # in range and the same size: only the checksum tells
        p = os.path.join(lat, "state.json")
        text = open(p).read()
        if '"next_step": 2,' not in text:
            fail(f"unexpected state.json: {text}")
        open(p, "w").write(text.replace('"next_step": 2,', '"next_step": 0,'))
    case("next_step 0", rewind, "ckpt/latest/state.json", "checksum")
    case("no manifest", lambda d, lat: os.remove(os.path.join(lat, "manifest.json")),
         "ckpt/latest/manifest.json", "missing")
    case("garbled manifest", lambda d, lat: open(os.path.join(lat, "manifest.json"), "w").write("{\"format\": 1"),
         "ckpt/latest/manifest.json")

    def outside(d, lat):
        m = json.load(open(os.path.join(lat, "manifest.json")))
        m["files"]["../../run_config.json"] = {"size": 1, "fnv1a64": "0000000000000000"}
        open(os.path.join(lat, "manifest.json"), "w").write(json.dumps(m))
    case("manifest naming a file outside", outside, "manifest.json", "../../run_config.json")
    case("unlisted file", lambda d, lat: open(os.path.join(lat, "actor", "extra.bin"), "wb").write(b"x"),
         "ckpt/latest/actor/extra.bin", "not listed")
    case("lost checkpoint", lambda d, lat: shutil.rmtree(lat), "ckpt/latest", "metrics.jsonl")

    def bad_swap(d, lat):
        old = lat + ".old.4242"
        os.rename(lat, old)
        os.remove(os.path.join(old, "actor", "model.safetensors"))
    case("interrupted swap, its copy incomplete", bad_swap, "ckpt/latest", "incomplete")

    def bad_line(d, lat):
        p = os.path.join(d, "metrics.jsonl")
        lines = open(p).read().split("\n")
        lines[1] = "garbage"
        open(p, "w").write("\n".join(lines))
    case("damaged metrics line", bad_line, "metrics.jsonl:2")

    # What an interruption can leave is repaired, and the run goes on as if nothing had happened.
    def repaired(name, mutate, check=None):
        d = os.path.join(work, "ck_" + name)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(base, d)
        lat = os.path.join(d, "ckpt", "latest")
        mutate(d, lat)
        expect_ok(train(hiper, d), name)
        left = [x for x in os.listdir(os.path.join(d, "ckpt")) if x not in ("latest", "best")]
        if left:
            fail(f"{name}: left {left} in ckpt/")
        same(ref, d, name)
        shutil.rmtree(d)

    def swap(d, lat):  # killed between the two renames of the swap: the new copy waits as latest.tmp
        os.rename(lat, lat + ".old.4242")
        shutil.copytree(lat + ".old.4242", lat + ".tmp")
        os.remove(os.path.join(lat + ".tmp", "manifest.json"))
    repaired("interrupted swap", swap)

    def removal(d, lat):  # killed while the replaced copy was being removed
        shutil.copytree(lat, lat + ".old.4243")
        os.remove(os.path.join(lat + ".old.4243", "critic", "model.safetensors"))
    repaired("interrupted removal", removal)

    def torn(d, lat):  # killed while a line was written (and the next step's line half written)
        with open(os.path.join(d, "metrics.jsonl"), "a") as f:
            f.write('{"kind":"train","step":3,"succ')
        with open(os.path.join(d, "rollouts.jsonl"), "a") as f:
            f.write('{"step":3,"traj":0,"group":0,"task_index":12,"ta')
    repaired("torn lines", torn)
    print("ckpt: ok")


def part_lock(hiper, work):
    ref, _ = reference(hiper, work)
    d = prepared(ref, os.path.join(work, "locked"))
    a = subprocess.Popen([hiper, "train", "--out", d, "--resume"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    lock = os.path.join(d, "lock")
    deadline = time.time() + 300
    while time.time() < deadline and a.poll() is None:
        if os.path.exists(lock) and open(lock).read().strip() == str(a.pid):
            break
        time.sleep(0.01)
    if a.poll() is not None:
        fail(f"the first run ended before the test could hold it: exit {a.returncode}")
    a.send_signal(signal.SIGSTOP)  # holds the lock, whatever the machine's load
    try:
        for what, args in (("a second --resume", ["--resume"]), ("a second plain start", TINY)):
            t0 = time.time()
            p = run([hiper, "train", "--out", d] + args)
            expect_error(p, what, os.path.join(d, "lock"), "is using this run directory", f"pid {a.pid}")
            if time.time() - t0 > 60:
                fail(f"{what} waited for the lock ({time.time() - t0:.0f} s) instead of failing at once")
    finally:
        a.send_signal(signal.SIGCONT)
    err = a.communicate()[1]
    if a.returncode != 0:
        fail(f"the first run: exit {a.returncode}: {err[-1500:]}")
    same(ref, d, "the run that held the lock")
    # the lock goes with its process, kill -9 included
    d = prepared(ref, os.path.join(work, "locked_killed"))
    expect_killed(train(hiper, d, kill="metrics@1"), "metrics@1")
    expect_ok(train(hiper, d), "resume after the lock holder was killed")
    same(ref, d, "after the lock holder was killed")
    print("lock: ok")


def mount_tmpfs(path, size_kb):
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode == 0, p.stdout.strip()


def umount(path):
    subprocess.run(["umount", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def remount(path, opts):
    subprocess.run(["mount", "-o", f"remount,{opts}", path], check=True)


def du_kb(d):
    total = 0
    for root, _, files in os.walk(d):
        for f in files:
            total += (os.path.getsize(os.path.join(root, f)) + 4095) // 4096 * 4
    return total


def part_disk(hiper, work):
    ref, _ = reference(hiper, work)
    mnt = os.path.join(work, "mnt")
    umount(mnt)
    ok, why = mount_tmpfs(mnt, 1024)
    if not ok:
        print(f"SKIPPED: cannot mount a tmpfs here ({why}); the full-disk and read-only tests need one")
        sys.exit(SKIP)
    umount(mnt)
    # A full disk at several points of the run: exit 1 naming the file and the reason; once there is
    # room again, --resume reproduces the uninterrupted run.
    start = du_kb(prepared(ref, os.path.join(work, "sizing")))
    peak = du_kb(ref) + du_kb(os.path.join(ref, "ckpt", "latest"))  # a checkpoint being swapped in
    hits = 0
    for frac in (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95):
        size = start + int((peak - start) * frac) + 16
        ok, why = mount_tmpfs(mnt, size)
        if not ok:
            fail(f"mounting a {size} kB tmpfs: {why}")
        try:
            d = prepared(ref, os.path.join(mnt, "run"))
            p = train(hiper, d)
            if p.returncode == 0:
                print(f"  {size} kB: the run fits")
                same(ref, d, f"a {size} kB disk")
                continue
            hits += 1
            expect_error(p, f"a full disk ({size} kB)", d, "No space left on device")
            remount(mnt, "size=262144k")
            expect_ok(train(hiper, d), "resume once there is room")
            same(ref, d, f"resume after a full disk ({size} kB)")
        finally:
            umount(mnt)
    if hits < 3:
        fail(f"only {hits} of the disk sizes filled up during the run")
    # A read-only output directory: an unfinished run cannot go on (exit 1 naming the file and the
    # reason, nothing changed); a finished one resumes as the no-op it is; writable again, it goes on.
    ok, why = mount_tmpfs(mnt, 262144)
    if not ok:
        fail(f"mounting a tmpfs: {why}")
    try:
        d = stopped_after(hiper, ref, os.path.join(mnt, "run"), 1)
        f = os.path.join(mnt, "finished")
        shutil.copytree(ref, f)
        remount(mnt, "ro")
        before = snapshot(d)
        expect_error(train(hiper, d), "a read-only run directory", d, "Read-only file system")
        unchanged(before, d, "a read-only run directory")
        before = snapshot(f)
        p = train(hiper, f)
        expect_ok(p, "a finished run on a read-only disk")
        if "nothing to do" not in p.stdout:
            fail("a finished run on a read-only disk does not say it is finished")
        unchanged(before, f, "a finished run on a read-only disk")
        print("  a finished run on a read-only disk: exit 0, 'nothing to do'")
        expect_error(train(hiper, os.path.join(mnt, "new"), resume=False), "a new run on a read-only disk",
                     os.path.join(mnt, "new"), "Read-only file system")
        remount(mnt, "rw")
        expect_ok(train(hiper, d), "resume once writable")
        same(ref, d, "resume after a read-only directory")
    finally:
        umount(mnt)
    print("disk: ok")


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("kill", "resume", "ckpt", "lock", "disk"):
        print(__doc__)
        sys.exit(2)
    part, hiper, work = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    work = os.path.join(work, part)
    os.makedirs(work, exist_ok=True)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.time()
    globals()["part_" + part](hiper, work)
    shutil.rmtree(work, ignore_errors=True)
    print(f"{part}: {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
