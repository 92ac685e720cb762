// The pool's ModelTokenizer over the real Qwen3 tokenizer files the simulated worker serves.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadModelTokenizer, type ModelTokenizer } from "../../pool/tokenizer/model-tokenizer.js";
import { defaultTokenizerDir } from "../../sim/tokenizer.js";

export function loadRealModelTokenizer(): ModelTokenizer {
  const dir = defaultTokenizerDir();
  const files = new Map(["tokenizer.json", "tokenizer_config.json"].map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))] as const));
  const t = loadModelTokenizer(files);
  if (!t.ok) throw new Error(t.error);
  return t.value;
}
