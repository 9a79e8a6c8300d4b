// The JS reference's encode throughput on the same text (bench/tok/run.sh).
// usage: node bench_js.mjs TOKENIZER_JSON TEXT_FILE [REPEATS]
import { readFileSync } from "node:fs";
import { loadTokenizer, encode } from "../../tests/ref/tok_ref.mjs";

const [path, file, repsArg] = process.argv.slice(2);
const reps = Number(repsArg ?? 5);
let t0 = performance.now();
const tok = loadTokenizer(path);
const loadS = (performance.now() - t0) / 1000;
const text = readFileSync(file, "utf8");
const bytes = Buffer.byteLength(text, "utf8");
let best = Infinity, bestCpu = Infinity, n = 0;
for (let r = 0; r < reps; r++) {
  t0 = performance.now();
  const c0 = process.cpuUsage();
  n = encode(tok, text).length;
  const c = process.cpuUsage(c0);
  best = Math.min(best, (performance.now() - t0) / 1000);
  bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6);
}
console.log(`JS  load ${loadS.toFixed(3)} s | encode ${(bytes / 1e6).toFixed(2)} MB in ${best.toFixed(3)} s: ${(bytes / 1e6 / best).toFixed(2)} MB/s, ${(n / best).toFixed(0)} tokens/s (${n} tokens, best of ${reps})`);
console.log(`JS  encode by CPU time: ${(bytes / 1e6 / bestCpu).toFixed(2)} MB/s, ${(n / bestCpu).toFixed(0)} tokens/s`);
t0 = performance.now();
let lines = 0;
for (const l of text.split("\n")) {
  if (l.length) encode(tok, l);
  lines++;
}
console.log(`JS  encode line by line (${lines} calls): ${(bytes / 1e6 / ((performance.now() - t0) / 1000)).toFixed(2)} MB/s`);
