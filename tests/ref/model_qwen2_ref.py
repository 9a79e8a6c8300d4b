#!/usr/bin/python3
"""Independent Qwen2 reference in PyTorch (float64) for the C model tests.

Usage: model_qwen2_ref.py CASE.json
The case names a config.json and a safetensors file of parameters (read here by hand, F32/BF16/F16),
a packed batch (ids, offsets), upstream gradients (dlogp, dent or dval), optional LoRA settings and
optional AdamW steps. It writes a safetensors file (written here by hand) with logp, entropy, values,
"grad.<name>" for every trainable tensor and, after AdamW steps, "param.<name>".
"""
import json
import math
import struct
import sys

import numpy as np
import torch

f64 = torch.float64


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, en = e["data_offsets"]
        buf = data[b:en]
        if e["dtype"] == "F32":
            a = np.frombuffer(buf, dtype="<f4").astype(np.float64)
        elif e["dtype"] == "F16":
            a = np.frombuffer(buf, dtype="<f2").astype(np.float64)
        elif e["dtype"] == "BF16":
            u = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            a = u.view(np.float32).astype(np.float64)
        else:
            raise ValueError("dtype " + e["dtype"])
        out[name] = torch.tensor(a.reshape(e["shape"]), dtype=f64)
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def rmsnorm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope(x, pos, theta):
    hd = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=f64) / hd))
    ang = pos[:, None].to(f64) * inv[None, :]
    cos = torch.cat([ang.cos(), ang.cos()], -1)[:, None, :]
    sin = torch.cat([ang.sin(), ang.sin()], -1)[:, None, :]
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class Ref:
    def __init__(self, cfg, P, lora):
        self.c, self.P, self.lora = cfg, P, lora

    def lin(self, x, name, bias):
        P = self.P
        y = x @ P[name + ".weight"].T
        if bias:
            y = y + P[name + ".bias"]
        if self.lora and (name + ".lora_A.weight") in P:
            s = self.lora["alpha"] / self.lora["rank"]
            y = y + s * ((x @ P[name + ".lora_A.weight"].T) @ P[name + ".lora_B.weight"].T)
        return y

    def forward(self, ids, offsets):
        c, P = self.c, self.P
        T = len(ids)
        D, H, Hk = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        hd = D // H
        eps = c.get("rms_norm_eps", 1e-6)
        theta = c.get("rope_theta", 10000.0)
        seq = torch.zeros(T, dtype=torch.long)
        pos = torch.zeros(T, dtype=torch.long)
        for s in range(len(offsets) - 1):
            seq[offsets[s]:offsets[s + 1]] = s
            pos[offsets[s]:offsets[s + 1]] = torch.arange(offsets[s + 1] - offsets[s])
        idx = torch.arange(T)
        mask = (seq[:, None] == seq[None, :]) & (idx[None, :] <= idx[:, None])
        x = P["model.embed_tokens.weight"][torch.tensor(ids)]
        for l in range(c["num_hidden_layers"]):
            p = "model.layers.%d." % l
            h = rmsnorm(x, P[p + "input_layernorm.weight"], eps)
            q = self.lin(h, p + "self_attn.q_proj", True).view(T, H, hd)
            k = self.lin(h, p + "self_attn.k_proj", True).view(T, Hk, hd)
            v = self.lin(h, p + "self_attn.v_proj", True).view(T, Hk, hd)
            q, k = rope(q, pos, theta), rope(k, pos, theta)
            k = k.repeat_interleave(H // Hk, dim=1)
            v = v.repeat_interleave(H // Hk, dim=1)
            sc = torch.einsum("ihd,jhd->hij", q, k) / math.sqrt(hd)
            sc = sc.masked_fill(~mask[None], float("-inf"))
            a = torch.einsum("hij,jhd->ihd", sc.softmax(-1), v).reshape(T, H * hd)
            x = x + self.lin(a, p + "self_attn.o_proj", False)
            h = rmsnorm(x, P[p + "post_attention_layernorm.weight"], eps)
            g = self.lin(h, p + "mlp.gate_proj", False)
            u = self.lin(h, p + "mlp.up_proj", False)
            x = x + self.lin(torch.nn.functional.silu(g) * u, p + "mlp.down_proj", False)
        return rmsnorm(x, P["model.norm.weight"], eps)

    def outputs(self, ids, offsets):
        c, P = self.c, self.P
        hf = self.forward(ids, offsets)
        if c.get("num_labels", 0) > 0:
            return {"values": hf @ P["score.weight"].T + P["score.bias"]}
        W = P["model.embed_tokens.weight"] if c.get("tie_word_embeddings") else P["lm_head.weight"]
        lp = torch.log_softmax(hf @ W.T, -1)
        ent = -(lp.exp() * lp).sum(-1)
        T = len(ids)
        tgt = torch.zeros(T, dtype=torch.long)
        valid = torch.zeros(T, dtype=f64)
        for s in range(len(offsets) - 1):
            for t in range(offsets[s], offsets[s + 1] - 1):
                tgt[t] = ids[t + 1]
                valid[t] = 1
        logp = lp.gather(1, tgt[:, None])[:, 0] * valid
        return {"logp": logp, "entropy": ent}


def main():
    case = json.load(open(sys.argv[1]))
    cfg = json.load(open(case["config"]))
    P = read_safetensors(case["params"])
    if cfg.get("architectures", ["Qwen2ForCausalLM"])[0] != "Qwen2ForTokenClassification":
        cfg["num_labels"] = 0
    lora = case.get("lora")
    trainable = [n for n in P if (".lora_" in n or n.startswith("score.")) or not lora]
    for n in trainable:
        P[n].requires_grad_(True)
    model = Ref(cfg, P, lora)
    ids, offsets = case["ids"], case["offsets"]

    def loss_of(out):
        L = torch.zeros((), dtype=f64)
        if "values" in out:
            L = L + (out["values"] * torch.tensor(case["dval"], dtype=f64).view_as(out["values"])).sum()
        else:
            L = L + (out["logp"] * torch.tensor(case["dlogp"], dtype=f64)).sum()
            if case.get("dent") is not None:
                L = L + (out["entropy"] * torch.tensor(case["dent"], dtype=f64)).sum()
        return L

    out = model.outputs(ids, offsets)
    result = {k: v.detach() for k, v in out.items()}
    loss_of(out).backward()
    for n in trainable:
        result["grad." + n] = P[n].grad.detach().clone()
    adam = case.get("adam")
    if adam:
        opt = torch.optim.AdamW([P[n] for n in trainable], lr=adam["lr"], betas=(0.9, 0.999), eps=1e-8,
                                weight_decay=adam["wd"])
        for n in trainable:
            P[n].grad = None
        for _ in range(adam["steps"]):
            opt.zero_grad()
            loss_of(model.outputs(ids, offsets)).backward()
            if adam.get("clip", 0) > 0:
                norm = torch.nn.utils.clip_grad_norm_([P[n] for n in trainable], adam["clip"])
                result.setdefault("norms", []).append(float(norm))
            opt.step()
        if "norms" in result:
            result["norms"] = torch.tensor(result["norms"])
        for n in trainable:
            result["param." + n] = P[n].detach().clone()
    write_safetensors(case["out"], result)


if __name__ == "__main__":
    main()
