#!/usr/bin/env python3
"""A model, not a measurement: bytes communicated per step and the expected speed-up of data-parallel
training (mpirun -np N hiper train / hiper sft) for the main job (configs/hiper_alfworld_small.json),
from its measured single-process phase times (bench/README.md) and an assumed network. docs/distributed.md
explains every input; change the constants or the options to recompute.

  bench/train/dist_model.py                       # 10 Gb/s, 50 us
  bench/train/dist_model.py --gbps 1 --latency-us 100
"""
import argparse
import math

# ---- the main job's model (configs/hiper_alfworld_small.json; include/hiper/model.h's Qwen2 layout) ----
HIDDEN, INTER, LAYERS, HEADS, KV_HEADS = 160, 432, 4, 4, 2
VOCAB_ASKED = 2048  # model.tokenizer_vocab
VOCAB_TRAINED = 1176  # the BPE tokenizer saturates there on the ALFWorld corpus (runs/.../ref/config.json)
K = 3  # HiPER's value heads: low, high, term


def n_params(vocab, critic):
    hd = HIDDEN // HEADS
    kv = KV_HEADS * hd
    layer = (HIDDEN * HIDDEN + HIDDEN)  # q_proj weight + bias
    layer += 2 * (kv * HIDDEN + kv)  # k_proj, v_proj weight + bias
    layer += HIDDEN * HIDDEN  # o_proj (no bias)
    layer += 3 * INTER * HIDDEN  # gate, up, down
    layer += 2 * HIDDEN  # input and post-attention RMSNorm
    n = vocab * HIDDEN + LAYERS * layer + HIDDEN  # tied embedding, layers, final norm
    if critic:
        n += K * HIDDEN + K  # score.weight [K, hidden] + score.bias [K]; no LM head
    return n


# ---- one RL step of the main job (runs/hiper_alfworld_small, 2026-12-07: metrics.jsonl, rollouts.jsonl) ----
GROUPS = 16  # data.train_batch_size (task groups; HiPER plays 1 rollout per task)
TURNS = 399  # mean turns per step (339-455)
PROMPT_TOK, RESP_TOK = 289.4, 24.7  # mean tokens per turn
PROMPT_TEXT = 3.27 * PROMPT_TOK  # rendered prompt bytes (3.27 bytes per token, measured on first turns)
STRINGS = 100.3 + 19.6 + 4.8 + 20.4 + 90.7  # response text, action, switch word, subgoal, anchor observation
ALLOWED_ROWS = 8  # constrained decoding: ~1 row before "<action>" + ~7 action tokens (estimated)
MINI, MICRO = 64, 32  # actor.ppo_mini_batch_size (the critic uses it too), ppo_micro_batch_size
# measured phase seconds per step, 1 process x 2 threads, idle 2-core machine (bench/README.md, train)
T_ROLLOUT, T_SCORE, T_CRITIC, T_ACTOR = 4.5, 7.2, 8.8, 9.2
# SFT: 2286 steps of 8 examples in 499 s (same run)
SFT_BATCH, T_SFT_STEP = 8, 499.0 / 2286


def turn_bytes(vocab, constrained=True):
    """One hp_turn in rollout_wire.c's packed form."""
    i64 = 8
    b = 6 * i64  # traj, group, t, n_allowed, allowed_stride, task_type
    b += i64 + 4 * PROMPT_TOK  # prompt ids (int32)
    b += i64 + 4 * RESP_TOK  # response ids
    b += i64 + 4 * RESP_TOK  # sampling log-probs (float)
    b += i64 + (4 * RESP_TOK if constrained else 0)  # mask_row (int32), NULL without constraints
    b += i64 + (ALLOWED_ROWS * math.ceil(vocab / 8) if constrained else 0)  # allowed-token bitmaps
    b += 6 * i64 + PROMPT_TEXT + STRINGS  # six strings, each with its length
    b += 6 + 2 * 8  # six flags, reward and score (double)
    return b


def traj_bytes():
    return 6 * 8 + (8 + 45) + (8 + 5) + 3 + 2 * 8  # ints, task text, task type name, flags, score, return


def score_bytes_per_turn(hidden_states=False):
    """hp_train_dist_score's gathers: old and reference log-probs per response token, K values per value
    position (response tokens + 1), and with critic.backbone=reference the hidden states there."""
    b = 4 * RESP_TOK * 2 + 4 * K * (RESP_TOK + 1)
    if hidden_states:
        b += 4 * HIDDEN * (RESP_TOK + 1)
    return b


def update_rows(n, rows, mini, micro):
    """Rows of the busiest rank summed over the mini-batches (update.c: each mini-batch's micro-batches are
    shared out contiguously, hp_dist_share; a micro-batch is never split)."""
    total = 0
    for a in range(0, rows, mini):
        m = min(mini, rows - a)
        n_micro = math.ceil(m / micro)
        busiest = math.ceil(n_micro / n)
        total += min(busiest * micro, m)
    return total


def allreduce_s(n, nbytes, bw, lat):  # ring (reduce-scatter + allgather)
    return 0.0 if n == 1 else 2 * (n - 1) * lat + 2 * (n - 1) / n * nbytes / bw


def allgather_s(n, nbytes, bw, lat):  # ring, nbytes = the whole result
    return 0.0 if n == 1 else (n - 1) * lat + (n - 1) / n * nbytes / bw


def small_s(n, lat):  # a latency-bound collective (a few bytes): recursive doubling
    return 0.0 if n == 1 else math.ceil(math.log2(n)) * lat


def rl_step(n, bw, lat, micro=MICRO, weak=False):
    """Seconds of one RL step on n ranks and its communication share. weak: 16n task groups and a
    mini-batch of 64n rows, so that every rank has the single process's work."""
    groups, turns, mini = (GROUPS * n, TURNS * n, MINI * n) if weak else (GROUPS, TURNS, MINI)
    share = math.ceil(groups / n) / GROUPS  # of the single process's rollout and scoring
    rows1 = update_rows(1, TURNS, MINI, micro)
    upd = (T_CRITIC + T_ACTOR) * update_rows(n, turns, mini, micro) / rows1
    compute = (T_ROLLOUT + T_SCORE) * share + upd
    opt_steps = 2 * math.ceil(turns / mini)  # actor + critic optimizer steps = gradient all-reduces
    v = VOCAB_TRAINED
    comm = opt_steps * allreduce_s(n, 4 * n_params(v, False), bw, lat)
    comm += allgather_s(n, turns * turn_bytes(v) + groups * traj_bytes() + n * 84, bw, lat)
    comm += 3 * allgather_s(n, turns * score_bytes_per_turn() / 3, bw, lat)
    comm += (4 + 4 + 2) * small_s(n, lat)  # gather sizes, agreements, the statistics sums
    return compute + comm, comm


def sft_step(n, bw, lat):
    compute = T_SFT_STEP * math.ceil(SFT_BATCH / n) / SFT_BATCH
    comm = allreduce_s(n, 4 * n_params(VOCAB_TRAINED, False), bw, lat) + small_s(n, lat)
    return compute + comm, comm


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gbps", type=float, default=10.0, help="network bandwidth per rank, Gbit/s")
    ap.add_argument("--latency-us", type=float, default=50.0, help="latency per message, microseconds")
    a = ap.parse_args()
    bw, lat = a.gbps * 1e9 / 8, a.latency_us * 1e-6
    v = VOCAB_TRAINED
    print("parameters (floats all-reduced per optimizer step):")
    for vocab in (VOCAB_TRAINED, VOCAB_ASKED):
        print(f"  vocab {vocab}: actor {n_params(vocab, False):,}  critic {n_params(vocab, True):,}")
    tb = turn_bytes(v)
    print(f"packed turn record: {tb:,.0f} B ({turn_bytes(v, False):,.0f} B without constrained actions)")
    print(f"per step ({TURNS} turns, {GROUPS} groups): rollout gather {TURNS * tb / 1e6:.2f} MB, score gathers "
          f"{TURNS * score_bytes_per_turn() / 1e6:.3f} MB (+{TURNS * 4 * HIDDEN * (RESP_TOK + 1) / 1e6:.1f} MB of "
          f"hidden states with critic.backbone=reference), gradients {2 * math.ceil(TURNS / MINI)} x "
          f"{4 * n_params(v, False) / 1e6:.2f} MB")
    print(f"\nnetwork: {a.gbps:g} Gb/s, {a.latency_us:g} us; one rank = the measured 2-core process\n")
    t1, _ = rl_step(1, bw, lat)
    s1, _ = sft_step(1, bw, lat)
    print("| ranks | RL step s | speed-up | comm s | speed-up, micro 8 | weak: s/step | weak: turns/s gain "
          "| SFT step ms | SFT speed-up |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    t1m8, _ = rl_step(1, bw, lat, micro=8)
    for n in (1, 2, 4, 8, 16, 32, 64):
        t, c = rl_step(n, bw, lat)
        t8, _ = rl_step(n, bw, lat, micro=8)
        tw, _ = rl_step(n, bw, lat, weak=True)
        s, _ = sft_step(n, bw, lat)
        print(f"| {n} | {t:.2f} | {t1 / t:.2f}x | {c:.3f} | {t1m8 / t8:.2f}x | {tw:.2f} | {n * t1 / tw:.1f}x "
              f"| {1000 * s:.0f} | {s1 / s:.2f}x |")


if __name__ == "__main__":
    main()
