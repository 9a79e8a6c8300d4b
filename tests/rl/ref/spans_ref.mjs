// Reference token spans for test_spans_qwen.c, computed with Hugging Face's JS tokenizer on the real
// Qwen tokenizer.json and the trainer-side parse of hiper.md §3.3 / §5.2 written here in JavaScript:
// tokens decoded one at a time (special tokens kept), concatenated with an offset per token; a span is
// the first opening tag to the earliest accepted closing variant after it, tags included; a token is in
// the span from the first token ending after the span start to the first token starting at or after
// its end; the switch decision is the stripped, upper-cased content (missing/empty = KEEP); V_low is
// read at the first token starting at or after the closing subgoal tag, else after </switch>, else 0.
//
//   node tests/rl/ref/spans_ref.mjs > tests/rl/data/spans_qwen_ref.json
import { decode, encode, loadTokenizer, qwenTokenizerPath } from "../../ref/tok_ref.mjs";

const TEXTS = [
  ["<switch>KEEP</switch>\n<subgoal>find the mug</subgoal>\n<action>go to countertop 1</action>", true],
  ["<switch>SWITCH</switch>\n<subgoal>clean the mug (at sink).</subgoal>\n<action>clean mug 1 with sinkbasin 1.</action>", true],
  ["<switch>KEEP</switch>\n<subgoal>heat the egg</subgoal>\ngo to microwave 1", true],
  ["<switch>switch</switch><action>look</action>", true],
  ["<switch>MAYBE</switch>\n<subgoal>put [mug] in coffeemachine]</subgoal>\n<action>put mug 1 in/on coffeemachine 1</action>", true],
  ["<switch> KEEP </switch>\n<subgoal>buy a 3\u2011pack of \u201cblue\u201d socks \u{1F9E6}</subgoal>\n<action>click[b0ABC]</action>", true],
  ["Sure! <switch>SWITCH</switch> <subgoal>go</subgoal> <action>open drawer 1</action> done", true],
  ["<action>a</action><action>b</action>", true],
  ["<switch>KEEP</switch><subgoal>x</subgoal>", false],
  ["<switch>KEEP</switch>", false],
  ["", true],
  ["<switch>\nKEEP or SWITCH\n</switch>\n<subgoal>the sub-goal you will follow next</subgoal>\n<action>EXACTLY one ADMISSIBLE action</action>", true],
  ["<switch>KEEP</switch>\n<subgoal>search for a red shirt]</subgoal>\n<action>search[red shirt]</action>\n", true],
  ["(plan) <switch>SWITCH</switch><subgoal>\u6253\u5f00\u51b0\u7bb1</subgoal><action>open fridge 1)</action>", true],
];

const CLOSE_VARIANTS = (t) => [`</${t}>`, `</${t}>\n`, `]</${t}>`, `]</${t}>\n`, `.</${t}>`, `.</${t}>\n`, `)</${t}>`, `)</${t}>\n`];
const CLOSE_SWITCH = ["</switch>", "</switch>\n"];

function findTag(text, open, closes) {
  const o = text.indexOf(open);
  if (o < 0) return null;
  const content = o + open.length;
  let close = -1;
  let len = 0;
  for (const c of closes) {
    const i = text.indexOf(c, content);
    if (i >= 0 && (close < 0 || i < close)) {
      close = i;
      len = c.length;
    }
  }
  if (close < 0) return null;
  return { open: o, content, close, end: close + len };
}

function tokenEnd(offsets, e) {
  for (let j = 0; j < offsets.length; j++) if (offsets[j][0] >= e) return j;
  return offsets.length;
}

function span(offsets, t) {
  if (!t) return null;
  let b = -1;
  for (let j = 0; j < offsets.length; j++)
    if (offsets[j][1] > t.open) {
      b = j;
      break;
    }
  if (b < 0) return null;
  const e = tokenEnd(offsets, t.end);
  return b < e ? [b, e] : null;
}

const tok = loadTokenizer(qwenTokenizerPath());
const imEnd = encode(tok, "<|im_end|>");
const cases = [];
for (const [text, eos] of TEXTS) {
  const ids = encode(tok, text).concat(eos ? imEnd : []);
  const pieces = ids.map((id) => decode(tok, [id]));
  const offsets = [];
  let pos = 0;
  for (const p of pieces) {
    offsets.push([pos, pos + p.length]);
    pos += p.length;
  }
  const full = pieces.join("");
  const a = findTag(full, "<action>", CLOSE_VARIANTS("action"));
  const g = findTag(full, "<subgoal>", CLOSE_VARIANTS("subgoal"));
  const w = findTag(full, "<switch>", CLOSE_SWITCH);
  let word = "KEEP";
  if (w && w.close > w.content) {
    const s = full.slice(w.content, w.close).trim().toUpperCase();
    if (s) word = s;
  }
  const n = ids.length;
  let vlow = g ? tokenEnd(offsets, g.end) : n;
  if (vlow >= n) vlow = w ? tokenEnd(offsets, w.end) : n;
  if (vlow >= n) vlow = 0;
  cases.push({
    text, ids, action: span(offsets, a), subgoal: span(offsets, g), switch: span(offsets, w),
    switch_found: w !== null, keep: word === "KEEP", v_low: vlow,
  });
}
process.stdout.write(JSON.stringify({ cases }) + "\n");
