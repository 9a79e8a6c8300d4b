#!/usr/bin/python3
"""Safetensors files for the C reader tests, written by hand (8-byte little-endian header length, JSON
header, data), and a checker for files the C writer produced.

  model_st_ref.py write DIR        writes good, sharded and corrupt files plus DIR/expected.json
  model_st_ref.py check FILE JSON  checks FILE (written by hiper) against the values in JSON
"""
import json
import struct
import sys

import numpy as np
import torch


def raw_file(path, header, blob, pad=True):
    h = json.dumps(header).encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        f.write(blob)


def build(tensors):
    """tensors: list of (name, dtype, torch tensor) -> (header, blob)."""
    header, blob = {"__metadata__": {"format": "pt"}}, b""
    for name, dt, t in tensors:
        if dt == "F32":
            b = t.to(torch.float32).numpy().astype("<f4").tobytes()
        elif dt == "F16":
            b = t.to(torch.float16).numpy().astype("<f2").tobytes()
        elif dt == "BF16":
            b = t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
        elif dt == "I64":
            b = t.to(torch.int64).numpy().astype("<i8").tobytes()
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [len(blob), len(blob) + len(b)]}
        blob += b
    return header, blob


def as_f32(dt, t):
    if dt == "F16":
        return t.to(torch.float16).to(torch.float32)
    if dt == "BF16":
        return t.to(torch.bfloat16).to(torch.float32)
    return t.to(torch.float32)


def write(d):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, generator=g)
    y = torch.tensor([1.0, -2.5, 3.140625, 1e-3, 65504.0, -0.0, 1e30, 7.7])
    z = torch.tensor([0.5, -1.0, 6.1e-5, 3.0e-6, 1000.0, -65504.0])  # includes an f16 subnormal
    good = [("x", "F32", x), ("y", "BF16", y), ("z", "F16", z), ("ids", "I64", torch.arange(4))]
    header, blob = build(good)
    raw_file(d + "/good.safetensors", header, blob, pad=False)
    expected = {n: as_f32(dt, t).flatten().tolist() for n, dt, t in good if dt != "I64"}
    expected["shapes"] = {n: list(t.shape) for n, dt, t in good}
    # sharded
    h1, b1 = build([("a", "F32", x)])
    h2, b2 = build([("b", "BF16", y), ("c", "F32", torch.ones(3))])
    raw_file(d + "/model-00001-of-00002.safetensors", h1, b1)
    raw_file(d + "/model-00002-of-00002.safetensors", h2, b2)
    json.dump({"metadata": {"total_size": 0}, "weight_map": {
        "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
        "c": "model-00002-of-00002.safetensors"}}, open(d + "/model.safetensors.index.json", "w"))
    expected["a"] = x.flatten().tolist()
    expected["b"] = as_f32("BF16", y).tolist()
    # corrupt files
    raw_file(d + "/truncated.safetensors", header, blob[:-5])
    with open(d + "/badjson.safetensors", "wb") as f:
        h = b'{"x": {"dtype": "F32", "shape": [2'
        f.write(struct.pack("<Q", len(h)) + h + b"\0" * 8)
    with open(d + "/hugelen.safetensors", "wb") as f:
        f.write(struct.pack("<Q", 1 << 40) + b"{}")
    hs = dict(header)
    hs["x"] = {"dtype": "F32", "shape": [2, 4], "data_offsets": header["x"]["data_offsets"]}
    raw_file(d + "/badshape.safetensors", hs, blob)
    hd = dict(header)
    hd["x"] = {"dtype": "Q4", "shape": [2, 3], "data_offsets": header["x"]["data_offsets"]}
    raw_file(d + "/baddtype.safetensors", hd, blob)
    json.dump(expected, open(d + "/expected.json", "w"))


def check(path, exp_path):
    exp = json.load(open(exp_path))
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header length %d not a multiple of 8" % n
    text = raw[8:8 + n].decode()
    assert text == text.rstrip(" ") + " " * (len(text) - len(text.rstrip(" "))), "padding is not spaces"
    header = json.loads(text)
    data = raw[8 + n:]
    end = 0
    names = [k for k in header if k != "__metadata__"]
    for name in names:
        e = header[name]
        b, en = e["data_offsets"]
        assert b == end, "%s: data not contiguous" % name
        end = en
        want = torch.tensor(exp[name]["values"], dtype=torch.float32).reshape(exp[name]["shape"])
        assert list(e["shape"]) == exp[name]["shape"], name
        if e["dtype"] == "F32":
            got = torch.from_numpy(np.frombuffer(data[b:en], dtype="<f4").copy()).reshape(e["shape"])
            assert torch.equal(got, want), name
        elif e["dtype"] == "BF16":
            got = torch.from_numpy(np.frombuffer(data[b:en], dtype="<i2").copy()).view(torch.bfloat16)
            ref = want.to(torch.bfloat16).flatten()
            assert torch.equal(got.view(torch.int16), ref.view(torch.int16)), name + " bf16 rounding differs"
        else:
            raise AssertionError("unexpected dtype " + e["dtype"])
    assert end == len(data), "trailing bytes"
    assert set(names) == set(exp), "tensor set differs"
    print("ok")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
