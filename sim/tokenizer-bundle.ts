// GetTokenizer payload: a flat ZIP (deflate) of the tokenizer files found at
// the root of the tokenizer directory, exactly what a real TokenSpeed worker
// serves so a gateway can load the model's tokenizer from the worker itself.
// Built once per process and directory (tokenizer.json is ~11 MB).
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { zipSync, type Zippable } from "fflate";

/** File names the real servicer bundles (wire doc §3.9), plus *.tiktoken, *.jinja, *.model. */
const KNOWN_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "config.json",
  "generation_config.json",
  "special_tokens_map.json",
  "vocab.json",
  "merges.txt",
  "tokenizer.model",
  "tiktoken.model",
  "chat_template.json",
  "preprocessor_config.json",
];

export interface TokenizerBundle {
  zip: Uint8Array;
  /** Lowercase hex SHA-256 of the whole archive. */
  sha256: string;
  files: string[];
}

export const TOKENIZER_CHUNK_BYTES = 64 * 1024;

const bundles = new Map<string, TokenizerBundle>();

export function tokenizerBundle(dir: string): TokenizerBundle {
  const hit = bundles.get(dir);
  if (hit) return hit;
  const names = new Set(KNOWN_FILES.filter((f) => existsSync(join(dir, f))));
  for (const f of readdirSync(dir)) if (/\.(tiktoken|jinja|model)$/.test(f)) names.add(f);
  if (!names.size) throw new Error(`no tokenizer files in ${dir}`);
  const entries: Zippable = {};
  // Fixed mtime so the archive (and its digest) is reproducible across processes.
  for (const f of names) entries[f] = [readFileSync(join(dir, f)), { level: 6, mtime: new Date("2025-01-01T00:00:00Z") }];
  const zip = zipSync(entries);
  const bundle = { zip, sha256: createHash("sha256").update(zip).digest("hex"), files: [...names] };
  bundles.set(dir, bundle);
  return bundle;
}

/** The archive as GetTokenizer chunks: 64 KiB `data` slices, sha256 only on the last. */
export function* tokenizerChunks(b: TokenizerBundle, size = TOKENIZER_CHUNK_BYTES): Generator<{ data: Uint8Array; sha256: string }> {
  for (let off = 0; off < b.zip.length; off += size) {
    const end = Math.min(off + size, b.zip.length);
    yield { data: b.zip.subarray(off, end), sha256: end === b.zip.length ? b.sha256 : "" };
  }
}
