#!/usr/bin/python3
"""An independent reader of TensorBoard event files, written from the format's specification (no
TensorFlow, no protobuf package): TFRecord framing with masked CRC32C, then the Event protobuf.

  tfevents_read.py known DIR     DIR holds the one file tests/io/test_tfevents.c writes: check it exactly
  tfevents_read.py run RUN_DIR   RUN_DIR/tensorboard holds one file whose events match RUN_DIR/metrics.jsonl
                                 step by step, with verl's names for the main metrics
  tfevents_read.py dump FILE     print every event (for a person)
"""
import glob, json, math, os, struct, sys


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def masked(c):
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def records(path):
    data = open(path, "rb").read()
    i, out = 0, []
    while i < len(data):
        if len(data) - i < 12:
            fail(f"{path}: {len(data) - i} stray bytes at offset {i}")
        head = data[i:i + 8]
        (n,) = struct.unpack("<Q", head)
        (lcrc,) = struct.unpack("<I", data[i + 8:i + 12])
        if lcrc != masked(crc32c(head)):
            fail(f"{path}: length CRC wrong at offset {i}")
        payload = data[i + 12:i + 12 + n]
        if len(payload) != n or len(data) < i + 16 + n:
            fail(f"{path}: record at offset {i} is cut short")
        (dcrc,) = struct.unpack("<I", data[i + 12 + n:i + 16 + n])
        if dcrc != masked(crc32c(payload)):
            fail(f"{path}: payload CRC wrong at offset {i}")
        out.append(payload)
        i += 16 + n
    return out


def varint(buf, i):
    v, shift = 0, 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def fields(buf):
    """(field number, wire type, value) of a protobuf message; value: int, bytes or raw fixed bytes."""
    i, out = 0, []
    while i < len(buf):
        key, i = varint(buf, i)
        f, w = key >> 3, key & 7
        if w == 0:
            v, i = varint(buf, i)
        elif w == 1:
            v, i = buf[i:i + 8], i + 8
        elif w == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif w == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            fail(f"wire type {w} of field {f} is not one an Event uses")
        out.append((f, w, v))
    if i != len(buf):
        fail("a protobuf message overruns its length")
    return out


def event(payload):
    """Event -> dict(wall_time, step, file_version, values=[(tag, float)])."""
    ev = {"step": 0, "values": [], "file_version": None, "wall_time": None}
    for f, w, v in fields(payload):
        if f == 1 and w == 1:
            ev["wall_time"] = struct.unpack("<d", v)[0]
        elif f == 2 and w == 0:
            ev["step"] = v - (1 << 64) if v >= 1 << 63 else v
        elif f == 3 and w == 2:
            ev["file_version"] = v.decode()
        elif f == 5 and w == 2:
            for sf, sw, sv in fields(v):
                if sf != 1 or sw != 2:
                    fail(f"Summary field {sf} (wire {sw}) unexpected")
                tag, val = None, None
                for vf, vw, vv in fields(sv):
                    if vf == 1 and vw == 2:
                        tag = vv.decode()
                    elif vf == 2 and vw == 5:
                        val = struct.unpack("<f", vv)[0]
                    else:
                        fail(f"Summary.Value field {vf} (wire {vw}) unexpected")
                if tag is None or val is None:
                    fail("a Summary.Value without tag or simple_value")
                ev["values"].append((tag, val))
        else:
            fail(f"Event field {f} (wire {w}) unexpected")
    return ev


def read_dir(d):
    files = sorted(glob.glob(os.path.join(d, "events.out.tfevents.*")))
    if len(files) != 1:
        fail(f"{d}: expected one event file, found {files}")
    evs = [event(p) for p in records(files[0])]
    if not evs or evs[0]["file_version"] != "brain.Event:2" or evs[0]["values"]:
        fail(f"{files[0]}: the first record is not the file_version event")
    if evs[0]["wall_time"] is None or evs[0]["wall_time"] < 1e9:
        fail(f"{files[0]}: the file_version event has no wall time")
    return files[0], evs[1:]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def known(d):
    path, evs = read_dir(d)
    want = [(1, 1700000000.25, [("actor/pg_loss", 1.5), ("timing_s/rollout", -2.25)]),
            (7, 1700000001.5, [("val/success", 0.375)]),
            (1 << 40, 1700000002.0, [("critic/vf_loss_low", f32(0.1)), ("misc/big", f32(3.0e38)),
                                     ("misc/tiny", f32(1e-30))]),
            (300, 1700000003.0, [])]
    got = [(e["step"], e["wall_time"], e["values"]) for e in evs]
    if got != want:
        fail(f"{path}: events {got} != {want}")
    print(f"{path}: {len(evs) + 1} records, CRCs, steps, wall times, tags and values as written")


# metrics.jsonl key -> the verl-style tag the writer must use (the examples and their kin)
VERL = {"pg_loss": "actor/pg_loss", "entropy": "actor/entropy", "kl": "actor/kl_loss",
        "actor_grad_norm": "actor/grad_norm", "actor_lr": "actor/lr", "vf_loss_low": "critic/vf_loss_low",
        "critic_grad_norm": "critic/grad_norm", "t_rollout": "timing_s/rollout", "t_step": "timing_s/step",
        "t_actor": "timing_s/update_actor", "t_critic": "timing_s/update_critic", "success": "episode/success",
        "response_length": "response_length/mean", "val_success": "val/success", "t_val": "timing_s/testing"}


def run(d):
    path, evs = read_dir(os.path.join(d, "tensorboard"))
    rows = [json.loads(l) for l in open(os.path.join(d, "metrics.jsonl"))]
    if len(rows) != len(evs):
        fail(f"{len(evs)} events for {len(rows)} metrics lines")
    seen = set()
    for r, e in zip(rows, evs):
        if e["step"] != r["step"]:
            fail(f"event step {e['step']} for a metrics line of step {r['step']}")
        nums = {k: v for k, v in r.items() if k != "step" and isinstance(v, (int, float))}
        tags = dict(e["values"])
        if len(tags) != len(e["values"]) or len(tags) != len(nums):
            fail(f"step {r['step']}: {len(e['values'])} values for {len(nums)} numbers of the metrics line")
        for k, tag in VERL.items():
            if k in nums:
                seen.add(tag)
                if tag not in tags:
                    fail(f"step {r['step']}: no {tag} (for {k}); tags {sorted(tags)}")
                if tags[tag] != f32(float(nums[k])):
                    fail(f"step {r['step']}: {tag} = {tags[tag]}, metrics.jsonl {k} = {nums[k]}")
        if sorted(f32(float(v)) for v in nums.values()) != sorted(tags.values()):
            fail(f"step {r['step']}: the values differ from the metrics line's")
    for must in ("actor/pg_loss", "critic/vf_loss_low", "timing_s/rollout", "val/success"):
        if must not in seen:
            fail(f"{must} never written")
    print(f"{path}: {len(evs)} events match metrics.jsonl (steps, values, verl names)")


def dump(path):
    for p in records(path):
        print(event(p))


if __name__ == "__main__":
    {"known": known, "run": run, "dump": dump}[sys.argv[1]](sys.argv[2])
