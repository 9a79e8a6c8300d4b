#!/usr/bin/python3
"""LoRA through the trainer (model.lora_rank > 0), tested like the full fine-tuning path.

  lora.py HIPER WORKDIR

- A LoRA quick run trains: finite metrics; the actor's gradient is not zero and its KL to the reference
  grows from 0 (the adapters' B starts at 0, so step 1 plays the reference policy); the critic's value
  loss is there.
- Only the adapters (and the critic's value head) train: the saved actor (ckpt/latest/actor, merged)
  differs from ref/ in the seven projections of every layer and nowhere else.
- The adapters are saved in PEFT's form (actor_lora/, critic_lora/: adapter_config.json with r, lora_alpha,
  target_modules; adapter_model.safetensors with base_model.model.* names), and they are what was merged:
  ref/ + (lora_alpha / r) * B @ A gives the merged actor's projections (to float rounding).
- The saved model loads back: `hiper eval --model RUN/ckpt/latest/actor` plays episodes with it.
- A LoRA run stopped after one step and resumed reproduces the uninterrupted run's metrics exactly (the
  resume rebuilds the models on their bases and reads the adapters and optimizer states back).
"""
import json, math, os, shutil, struct, subprocess, sys
from array import array

RANK, ALPHA = 4, 8.0
ARGS = ["--quick", "--quiet", f"model.lora_rank={RANK}", f"model.lora_alpha={ALPHA:g}", "actor.optim.lr=1e-3",
        "critic.optim.lr=1e-3", "data.train_batch_size=2", "env.max_steps=6", "data.val_batch_size=2",
        "trainer.total_steps=3", "trainer.test_freq=2", "sft.episodes=4", "trainer.final_eval_episodes=0"]
PROJ = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
TIMING = ("t_", "tokens_per_s")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(args):
    print("$", " ".join(args), flush=True)
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(p.stdout[-2000:])
    return p


def metrics(d):
    return [json.loads(l) for l in open(os.path.join(d, "metrics.jsonl"))]


def safetensors(path):
    """{name: (shape, values)} of an F32 safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            fail(f"{path}: {name} is {t['dtype']}, F32 expected")
        a, b = t["data_offsets"]
        v = array("f")
        v.frombytes(data[8 + n + a:8 + n + b])
        out[name] = (t["shape"], v)
    return out


def check_training(d):
    rows = metrics(d)
    for r in rows:
        for k, v in r.items():
            if isinstance(v, float) and not math.isfinite(v):
                fail(f"step {r.get('step')}: {k} = {v}")
    train = [r for r in rows if r["kind"] == "train"]
    if len(train) != 3:
        fail(f"{len(train)} train records")
    if any(r["actor_grad_norm"] <= 0 or r["optim_steps"] < 1 for r in train):
        fail("the actor did not train: " + str([(r["actor_grad_norm"], r["optim_steps"]) for r in train]))
    kl = [r["kl"] for r in train]
    if not (abs(kl[0]) < 1e-6 and kl[-1] > kl[0] and kl[-1] > 1e-7):
        fail(f"the KL to the reference does not grow from 0: {kl}")
    if any(r["vf_loss_low"] <= 0 for r in train):
        fail("no critic loss")
    print("training:", [(r["step"], round(r["pg_loss"], 5), r["kl"], round(r["vf_loss_low"], 4)) for r in train])


def check_weights(d):
    ref = safetensors(os.path.join(d, "ref", "model.safetensors"))
    actor = safetensors(os.path.join(d, "ckpt", "latest", "actor", "model.safetensors"))
    if set(ref) != set(actor):
        fail(f"the merged actor's tensors are not ref/'s: {sorted(set(ref) ^ set(actor))[:5]}")
    changed = sorted(k for k in ref if ref[k][1] != actor[k][1])
    want = sorted(k for k in ref if any(f".{p}.weight" in k for p in PROJ))
    if changed != want:
        fail(f"changed tensors {changed[:4]}... ({len(changed)}), want the {len(want)} projections")
    for m in ("actor", "critic"):
        cfg = json.load(open(os.path.join(d, "ckpt", "latest", m + "_lora", "adapter_config.json")))
        if cfg["peft_type"] != "LORA" or cfg["r"] != RANK or cfg["lora_alpha"] != ALPHA or sorted(
                cfg["target_modules"]) != sorted(PROJ):
            fail(f"{m}_lora/adapter_config.json: {cfg}")
        if (m == "critic") != (cfg["modules_to_save"] == ["score"]):
            fail(f"{m}_lora: modules_to_save {cfg['modules_to_save']}")
    ad = safetensors(os.path.join(d, "ckpt", "latest", "actor_lora", "adapter_model.safetensors"))
    if len(ad) != 2 * len(want) or not all(k.startswith("base_model.model.model.layers.") for k in ad):
        fail(f"actor adapters: {sorted(ad)[:4]}... ({len(ad)})")
    crit = safetensors(os.path.join(d, "ckpt", "latest", "critic_lora", "adapter_model.safetensors"))
    if "base_model.model.score.weight" not in crit or "base_model.model.score.bias" not in crit:
        fail("critic adapters without the value head")
    # merged = ref + (alpha / r) * B @ A, per projection
    s, worst = ALPHA / RANK, 0.0
    for name in want:
        base = name[: -len(".weight")]
        (o, i), w0 = ref[name]
        (r, _), A = ad[f"base_model.model.{base}.lora_A.weight"]
        _, B = ad[f"base_model.model.{base}.lora_B.weight"]
        w = actor[name][1]
        for row in range(o):
            for col in range(i):
                x = w0[row * i + col] + s * sum(B[row * r + k] * A[k * i + col] for k in range(r))
                worst = max(worst, abs(x - w[row * i + col]))
    if worst > 1e-5:
        fail(f"merged projections differ from ref + B A by up to {worst}")
    print(f"weights: {len(changed)} projections changed, merged = ref + {s:g} B A (max deviation {worst:.2e})")


def strip(rows):
    return [{k: v for k, v in r.items() if not k.startswith(TIMING)} for r in rows]


def main(hiper, work):
    a, b = os.path.join(work, "lora_a"), os.path.join(work, "lora_b")
    for d in (a, b):
        shutil.rmtree(d, ignore_errors=True)
    if run([hiper, "train", "--out", a] + ARGS).returncode != 0:
        fail("the LoRA run failed")
    check_training(a)
    check_weights(a)
    p = run([hiper, "eval", "--model", os.path.join(a, "ckpt", "latest", "actor"), "--episodes", "2", "--split",
             "valid_seen", "--json", "--quiet"])
    if p.returncode != 0 or json.loads(p.stdout.strip().splitlines()[-1])["episodes"] != 2:
        fail("hiper eval --model RUN/ckpt/latest/actor")
    if run([hiper, "train", "--out", b, "--stop-after", "1"] + ARGS).returncode != 0:
        fail("first part of the interrupted run failed")
    if run([hiper, "train", "--quiet", "--out", b, "--resume"]).returncode != 0:
        fail("the resumed run failed")
    if strip(metrics(a)) != strip(metrics(b)):
        for x, y in zip(strip(metrics(a)), strip(metrics(b))):
            if x != y:
                fail(f"resumed run differs at {x.get('kind')} {x.get('step')}: "
                     f"{ {k: (x.get(k), y.get(k)) for k in set(x) | set(y) if x.get(k) != y.get(k)} }")
        fail("the resumed run has another number of records")
    print("resume: identical metrics")
    print("lora: ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
