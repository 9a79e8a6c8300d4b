#!/usr/bin/env bash
# Data parallelism against threads (issue 16): the main job's RL step and an SFT epoch with
# 1 rank x 2 threads, 2 ranks x 1 thread (mpirun) and 1 rank x 1 thread.
#
#   bench/train/dist_scaling.sh WARM_START_RUN [STEPS] [SFT_EPISODES]
#
# WARM_START_RUN holds ref/ and tokenizer/ (the main job's runs/hiper_alfworld_small after its SFT
# phase; any run directory works for a smoke test). Each layout trains STEPS (3) RL steps from that warm
# start with the main job's configuration and the same seed, and fine-tunes ref/ for one epoch on
# SFT_EPISODES (20) expert episodes. Printed per layout: the median seconds per RL step (rank 0's wall
# clock, waiting included) with its phases, and the SFT epoch's seconds. HIPER names the binary
# (default build/hiper, which must be built with MPI for the 2-rank layout); RL_STEP_KEYS adds
# configuration keys to the RL runs and SFT_OPTS options to hiper sft (bench/README.md shows a smoke
# check on the quick job's small model). Run it on an idle machine: the layouts share the same cores.
set -euo pipefail
ws=${1:?usage: dist_scaling.sh WARM_START_RUN [STEPS] [SFT_EPISODES]}
steps=${2:-3}
episodes=${3:-20}
here=$(cd "$(dirname "$0")/../.." && pwd)
hiper=${HIPER:-$here/build/hiper}
mpirun=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
command -v mpirun >/dev/null || { echo "mpirun not found (scripts/deps.sh test installs openmpi-bin)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-16s %-66s %s\n' layout "RL step (median of $steps, rank 0 wall)" "SFT epoch"
for layout in 1x2 2x1 1x1; do
  ranks=${layout%x*}
  threads=${layout#*x}
  launch=()
  [ "$ranks" -gt 1 ] && launch=("${mpirun[@]}" -np "$ranks" -x OMP_NUM_THREADS="$threads")
  out="$tmp/$layout"
  OMP_NUM_THREADS=$threads "${launch[@]}" "$hiper" train --out "$out/run" model.path="$ws/ref" \
    model.tokenizer="$ws/tokenizer" sft.enable=false trainer.total_steps="$steps" trainer.test_freq=0 \
    trainer.final_eval_episodes=0 trainer.log_rollouts=false trainer.threads="$threads" ${RL_STEP_KEYS:-} \
    --quiet >"$out.train.log" 2>&1 || { cat "$out.train.log" >&2; exit 1; }
  rl=$(python3 - "$out/run/metrics.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l]
med = lambda k: statistics.median(r[k] for r in rows)
print(f"{med('t_step'):6.2f} s (rollout {med('t_rollout'):.2f}, score {med('t_score'):.2f}, "
      f"critic {med('t_critic'):.2f}, actor {med('t_actor'):.2f})")
PY
)
  OMP_NUM_THREADS=$threads "${launch[@]}" "$hiper" sft --model "$ws/ref" --tokenizer "$ws/tokenizer" --env alfworld \
    --episodes "$episodes" --epochs 1 --quiet ${SFT_OPTS:-} --out "$out/sft" >"$out.sft.log" 2>&1 || { cat "$out.sft.log" >&2; exit 1; }
  sft=$(sed -n 's/^sft: .*tokens, \([0-9.]*\) s;.*/\1 s/p' "$out.sft.log")
  printf '%-16s %-66s %s\n' "$ranks rank x $threads thr" "$rl" "$sft"
done
