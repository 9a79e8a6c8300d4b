#!/usr/bin/env bash
# One RL step of the main job's shape, timed phase by phase, for one or two hiper binaries side by side.
#
#   bench/train/rl_step.sh WARM_START_RUN [STEPS] [THREADS] [BASELINE_HIPER]
#
# WARM_START_RUN is a run directory holding ref/ and tokenizer/ (for example the main job's
# runs/hiper_alfworld_small after its SFT phase). Each binary trains STEPS (3) HiPER steps from that
# warm start with the main job's configuration and the same seed (so both play the same rollouts as
# long as their numbers agree), and the script prints per phase the median seconds per step and the
# tokens per second through the whole step (prompt + response tokens of the step's turns / t_step).
# Extra configuration keys: RL_STEP_KEYS for every binary, NEW_KEYS for build/hiper only and
# BASE_KEYS for the baseline only (an older binary may not know a newer key).
set -euo pipefail
ws=${1:?usage: rl_step.sh WARM_START_RUN [STEPS] [THREADS] [BASELINE_HIPER]}
steps=${2:-3}
threads=${3:-2}
base=${4:-}
here=$(cd "$(dirname "$0")/../.." && pwd)
bins=("$here/build/hiper")
[ -n "$base" ] && bins+=("$base")
for bin in "${bins[@]}"; do
  out=$(mktemp -d)
  extra=${NEW_KEYS:-}
  [ "$bin" = "$base" ] && extra=${BASE_KEYS:-}
  "$bin" train --out "$out/run" model.path="$ws/ref" model.tokenizer="$ws/tokenizer" sft.enable=false \
    trainer.total_steps="$steps" trainer.test_freq=0 trainer.final_eval_episodes=0 trainer.log_rollouts=false \
    trainer.threads="$threads" ${RL_STEP_KEYS:-} $extra >/dev/null
  python3 - "$bin" "$out/run/metrics.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[2]) if '"train"' in l]
med = lambda k: statistics.median(r[k] for r in rows)
tok = sum(r["tokens"] for r in rows) / len(rows)
print(f"{sys.argv[1]}: {len(rows)} steps, {tok:.0f} tokens/step, step {med('t_step'):.1f} s "
      f"(rollout {med('t_rollout'):.1f}, score {med('t_score'):.1f}, critic {med('t_critic'):.1f}, "
      f"actor {med('t_actor'):.1f}); {tok / med('t_step'):.0f} tokens/s through the step")
PY
  rm -rf "$out"
done
