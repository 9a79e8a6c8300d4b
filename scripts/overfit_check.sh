#!/usr/bin/env bash
# The overfitting check of the RL pipeline: a quick-sized model learns two fixed training games from
# their demonstrations, then RL plays only those games. A sound pipeline keeps (or drives) their success
# at >= 90%. Prints the per-step training success of each estimator and the mean of the last 10 steps.
#
#   scripts/overfit_check.sh [OUT_DIR] [key=value ...]     (extra keys apply to every run)
#
# About 2 minutes per estimator on 2 idle cores. Results of 2026-12-07 are in docs/training.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/overfit}
shift || true
[ -x build/hiper ] || BUILD_DIR=build scripts/build.sh >/dev/null
common=(trainer.total_steps=30 trainer.test_freq=0 trainer.final_eval_episodes=0 trainer.log_rollouts=false
        rollout.constrain_actions=true env.train_tasks=0,1 sft.episodes=16 sft.noise=0.3 sft.epochs=40
        actor.optim.lr=1e-3 critic.optim.lr=3e-3)
declare -A runs=(
  [hae]="critic.value_scale=10 critic.calibrate_bias=true"
  [hae_paper]=""
  [grpo]="algorithm.adv_estimator=grpo env.format=hiper env.rollout.n=4 data.train_batch_size=2"
)
for name in hae hae_paper grpo; do
  rm -rf "$out/$name"
  # shellcheck disable=SC2086
  build/hiper train --quick --quiet --out "$out/$name" "${common[@]}" data.train_batch_size=8 ${runs[$name]} "$@"
  python3 - "$name" "$out/$name/metrics.jsonl" <<'PY'
import json, sys
s = [json.loads(l)["success"] for l in open(sys.argv[2]) if '"train"' in l]
print(f"{sys.argv[1]:10s} success per step: {' '.join(f'{x:.2f}' for x in s)}")
print(f"{'':10s} mean of the last 10 steps: {sum(s[-10:]) / len(s[-10:]):.3f}")
PY
done
