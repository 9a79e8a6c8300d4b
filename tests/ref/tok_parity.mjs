// Parity test of the C tokenizer (the `hiper tokenizer` command) against Hugging Face's JS tokenizer
// and jinja renderer, on the real Qwen tokenizer.json:
//   1. encode: a hand-written corpus, texts of the repository (docs, WebShop page renders and goals), and
//      seeded random strings;
//   2. decode: C decode of the ids == JS decode (plain and skip_special), == NFC of the text,
//      and random id sequences that cut UTF-8 characters (U+FFFD handling);
//   3. chat: the Qwen2.5 template rendered by @huggingface/jinja == `hiper tokenizer chat`;
//   4. train: a tokenizer trained by `hiper tokenizer train` loads in JS and encodes identically.
// usage: node tok_parity.mjs --cli HIPER --corpus corpus.jsonl --root REPOSITORY_ROOT --tmp DIR [--fuzz N]
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { qwenTokenizerPath, loadTokenizer, encode, decode, renderChat } from "./tok_ref.mjs";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const cli = args.cli;
const fuzzN = Number(args.fuzz ?? 1500);
const tmp = args.tmp ?? "/tmp/hiper-tok-parity";
mkdirSync(tmp, { recursive: true });

let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else {
    failed++;
    if (failed <= 25) console.log(`FAIL ${name}${detail ? ": " + detail : ""}`);
  }
}

function runCli(argv, input) {
  const r = spawnSync(cli, argv, { input, maxBuffer: 1 << 30, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cli} ${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l.length).map((l) => JSON.parse(l));
}

const jsonl = (xs) => xs.map((x) => JSON.stringify(x)).join("\n") + "\n";
const show = (s) => JSON.stringify(s.length > 80 ? s.slice(0, 80) + "…" : s);

// ---- the texts ----
function xorshift(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

function fuzzTexts(n, seed) {
  const rnd = xorshift(seed);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const pieces = [
    " ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2009", "\u200b", "\ufeff", "\u0085", "\u2028",
    "a", "Z", "hello", "World", "the", "I", "'s", "'S", "'ll", "'re", "'d", "'", "’", "0", "7", "42", "3.5", "½", "²", "٣",
    ".", ",", "!", "?", "...", "-", "_", "(", ")", "[", "]", "{", "}", "<", ">", "/", "\\", "\"", "#", "$", "%", "&", "*", "+", "=", "|", "~", "`", "@", "^",
    "é", "e\u0301", "ü", "ñ", "ß", "Å", "\u212b", "ﬁ", "ǅ", "Σ", "ω", "ж", "Ж", "ا", "ש", "न", "\u094d", "ि", "ก", "\u0e31",
    "中", "文", "日本", "カ", "한", "。", "，", "「", "」", "😀", "👍", "🏽", "\u200d", "👨‍👩‍👧", "🇺", "🇸", "\u{1F600}", "𝕏", "\u{10FFFD}",
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<|im_", "|>", "<switch>", "KEEP", "</switch>", "<action>", "<subgoal>",
    "\u0000", "\u0001", "\u007f", "\u00ad", "\u034f", "\u0300", "\u0308", "\u0327",
    "か", "\u3099", "\u1100", "\u1161", "\u11a8", "가", "\u2000", "\u037e", "\u0387", "\uf900", "ω", "Ж", "\u180e", "\u180e", "\u1680", "\u202f",
    "=", "\u0338", "\u2190", "\u2260", "\u2203", "\u2329", "\u212a", "\u2075", "\u20ac", "\u2153", "\u2500", "\u2713", "\u27bf",
  ];
  const out = [];
  for (let i = 0; i < n; i++) {
    const k = 1 + Math.floor(rnd() * 24);
    let s = "";
    for (let j = 0; j < k; j++) s += pick(pieces);
    out.push(s);
  }
  return out;
}

// Long real texts of the repository: markdown with tables, arrows and Greek letters, WebShop's page
// texts, and the human WebShop instructions (data/webshop).
function repoTexts(root) {
  const out = [];
  const add = (path, split) => {
    if (!existsSync(path)) throw new Error(`missing text file ${path}`);
    const t = readFileSync(path, "utf8");
    out.push(t); // the whole file as one long text
    if (split) for (const p of t.split(/\n\n+/)) if (p.trim()) out.push(p);
  };
  add(join(root, "tests/webshop/fixtures/page_renders.txt"), true);
  add(join(root, "docs/alfworld.md"), true);
  add(join(root, "docs/webshop.md"), true);
  add(join(root, "docs/agent.md"), true);
  add(join(root, "docs/advantage.md"), false);
  const goals = JSON.parse(readFileSync(join(root, "data/webshop/human_goals.json"), "utf8"));
  const flat = JSON.stringify(goals).slice(0, 200000);
  out.push(flat);
  return out;
}

const corpus = readFileSync(args.corpus, "utf8").split("\n").filter((l) => l.length).map((l) => JSON.parse(l));
const texts = [...corpus, ...repoTexts(args.root), ...fuzzTexts(fuzzN, 12345)];

// ---- 1. encode ----
const qwen = qwenTokenizerPath();
const tok = loadTokenizer(qwen);
const cIds = runCli(["tokenizer", "encode", "--jsonl", "--tokenizer", qwen], jsonl(texts));
let encFail = 0;
texts.forEach((t, i) => {
  const want = encode(tok, t);
  const ok = JSON.stringify(want) === JSON.stringify(cIds[i]);
  if (!ok) encFail++;
  check(`encode #${i} ${show(t)}`, ok, ok ? "" : `\n  js ${JSON.stringify(want).slice(0, 200)}\n  c  ${JSON.stringify(cIds[i]).slice(0, 200)}`);
});
console.log(`encode: ${texts.length - encFail}/${texts.length} texts identical`);

// ---- 1b. encode with Qwen2.5's tokenizer.json (Qwen3's less the four added tokens Qwen3 introduced) ----
const q25 = JSON.parse(readFileSync(qwen, "utf8"));
q25.added_tokens = q25.added_tokens.filter((a) => a.id < 151665);
q25.model.merges = q25.model.merges.map((m) => (Array.isArray(m) ? m.join(" ") : m)); // Qwen2.5's file has "a b" merges
mkdirSync(join(tmp, "qwen25"), { recursive: true });
writeFileSync(join(tmp, "qwen25/tokenizer.json"), JSON.stringify(q25));
const tok25 = loadTokenizer(join(tmp, "qwen25/tokenizer.json"));
const c25 = runCli(["tokenizer", "encode", "--jsonl", "--tokenizer", join(tmp, "qwen25")], jsonl(texts));
let f25 = 0;
texts.forEach((t, i) => {
  const want = encode(tok25, t);
  const ok = JSON.stringify(want) === JSON.stringify(c25[i]);
  if (!ok) f25++;
  check(`qwen2.5 encode #${i} ${show(t)}`, ok);
});
console.log(`encode (Qwen2.5 added tokens): ${texts.length - f25}/${texts.length} texts identical`);

// ---- 2. decode ----
// decode(encode(t)) is t with each stretch between added tokens NFC-normalised (added tokens are cut
// out before normalisation, so a combining mark after one stays alone)
const addedContents = JSON.parse(readFileSync(qwen, "utf8")).added_tokens.map((a) => a.content).sort((a, b) => b.length - a.length);
const addedRe = new RegExp("(" + addedContents.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|") + ")");
const roundTrip = (t) => t.split(addedRe).map((p, i) => (i % 2 ? p : p.normalize("NFC"))).join("");
const rnd = xorshift(777);
const vocab = 151665;
const idSeqs = [...cIds];
for (let i = 0; i < 300; i++) {
  const n = 1 + Math.floor(rnd() * 12);
  const seq = [];
  for (let j = 0; j < n; j++) {
    const r = rnd();
    // single bytes 0x80.. (ids of lone continuation/lead bytes), CJK pieces, specials, anything
    seq.push(r < 0.4 ? 94 + Math.floor(rnd() * 160) : r < 0.5 ? 151643 + Math.floor(rnd() * 22) : Math.floor(rnd() * vocab));
  }
  idSeqs.push(seq);
}
for (const skip of [false, true]) {
  const cText = runCli(["tokenizer", "decode", "--jsonl", "--tokenizer", qwen, ...(skip ? ["--skip-special"] : [])], jsonl(idSeqs));
  idSeqs.forEach((ids, i) => {
    const want = decode(tok, ids, skip);
    check(`decode${skip ? " skip_special" : ""} #${i} ${JSON.stringify(ids).slice(0, 60)}`, want === cText[i],
      `js ${show(want)} c ${show(cText[i])}`);
    if (!skip && i < texts.length) check(`round trip #${i}`, cText[i] === roundTrip(texts[i]), show(texts[i]));
  });
}

// ---- 3. chat ----
const template = readFileSync(new URL("./qwen25_chat_template.jinja", import.meta.url), "utf8");
const convs = [
  [{ role: "user", content: "Hello" }],
  [{ role: "system", content: "You are a robot." }, { role: "user", content: "Hi\nthere" }],
  [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }],
  [{ role: "system", content: "" }, { role: "user", content: "" }],
  [{ role: "user", content: "x" }, { role: "system", content: "late system" }, { role: "assistant", content: "<action>look</action>" }],
  [{ role: "user", content: "call" }, { role: "tool", content: "r1" }, { role: "tool", content: "r2" }, { role: "assistant", content: "ok" }],
  [{ role: "tool", content: "first" }],
  [{ role: "user", content: texts[corpus.length] }],
  [{ role: "user", content: "中文 🎉 <|im_end|> inside" }, { role: "assistant", content: "<think>t</think>\n<switch>KEEP</switch>" }],
];
for (const gen of [false, true]) {
  const cOut = runCli(["tokenizer", "chat", "--jsonl", ...(gen ? ["--add-generation-prompt"] : [])], jsonl(convs));
  const cChatIds = runCli(["tokenizer", "chat", "--jsonl", "--tokenizer", qwen, ...(gen ? ["--add-generation-prompt"] : [])], jsonl(convs));
  convs.forEach((m, i) => {
    const want = renderChat(template, m, gen);
    check(`chat #${i} gen=${gen}`, want === cOut[i], `\n  jinja ${JSON.stringify(want)}\n  c     ${JSON.stringify(cOut[i])}`);
    check(`chat ids #${i} gen=${gen}`, JSON.stringify(encode(tok, want)) === JSON.stringify(cChatIds[i]));
  });
}

// ---- 4. train ----
const trainCorpus = join(args.root, "data/webshop/items_ins_v2_1000.json");
const outDir = join(tmp, "trained");
spawnSync(cli, ["tokenizer", "train", "--corpus", trainCorpus, "--vocab-size", "2000", "--out", outDir], { stdio: "inherit" });
const trainedPath = join(outDir, "tokenizer.json");
check("train writes tokenizer.json", existsSync(trainedPath));
if (existsSync(trainedPath)) {
  const tj = JSON.parse(readFileSync(trainedPath, "utf8"));
  const cfg = JSON.parse(readFileSync(join(outDir, "tokenizer_config.json"), "utf8"));
  check("trained vocab size", Object.keys(tj.model.vocab).length + tj.added_tokens.length === 2000,
    `${Object.keys(tj.model.vocab).length} + ${tj.added_tokens.length}`);
  check("trained chat_template is Qwen2.5's", cfg.chat_template === template);
  const ttok = loadTokenizer(trainedPath);
  const cT = runCli(["tokenizer", "encode", "--jsonl", "--tokenizer", outDir], jsonl(texts));
  let tf = 0;
  texts.forEach((t, i) => {
    const want = encode(ttok, t);
    const ok = JSON.stringify(want) === JSON.stringify(cT[i]);
    if (!ok) tf++;
    check(`trained encode #${i} ${show(t)}`, ok, ok ? "" : `\n  js ${JSON.stringify(want).slice(0, 200)}\n  c  ${JSON.stringify(cT[i]).slice(0, 200)}`);
  });
  console.log(`trained tokenizer: ${texts.length - tf}/${texts.length} texts identical`);
}

// ---- 5. command line: exit codes and messages ----
function status(argv, input = "") {
  const r = spawnSync(cli, argv, { input, encoding: "utf8" });
  return { code: r.status, err: r.stderr, out: r.stdout };
}
for (const sub of ["encode", "decode", "chat", "train"]) check(`cli ${sub} --help`, status(["tokenizer", sub, "--help"]).code === 0);
check("cli encode without --tokenizer → 2", status(["tokenizer", "encode", "--text", "x"]).code === 2);
check("cli unknown subcommand → 2", status(["tokenizer", "frobnicate"]).code === 2);
check("cli train without --corpus → 2", status(["tokenizer", "train", "--vocab-size", "300", "--out", tmp]).code === 2);
{
  const r = status(["tokenizer", "encode", "--tokenizer", join(tmp, "missing.json"), "--text", "x"]);
  check("cli missing tokenizer → 1 naming the file", r.code === 1 && r.err.includes("missing.json"), r.err);
}
{
  const r = status(["tokenizer", "decode", "--tokenizer", qwen, "--ids", "9707 1879"]);
  check("cli decode --ids", r.code === 0 && r.out === "Hello world", JSON.stringify(r.out));
  const e = status(["tokenizer", "encode", "--tokenizer", qwen], "Hello world");
  check("cli encode stdin", e.code === 0 && e.out === "9707 1879\n", JSON.stringify(e.out));
  const tk = status(["tokenizer", "encode", "--tokens", "--tokenizer", qwen, "--text", "Hi 🎉"]);
  check("cli encode --tokens", tk.code === 0 && tk.out === '13048\t"Hi"\n11162\t" \\xf0\\x9f"\n236\t"\\x8e"\n231\t"\\x89"\n', JSON.stringify(tk.out));
  const c = status(["tokenizer", "chat"], "not json");
  check("cli chat bad JSON → 1", c.code === 1);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
