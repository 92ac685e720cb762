// Reassembles and validates a tokenizer bundle streamed by GetTokenizer (wire §3.9):
// the same checks the smg gateway applies, so a truncated, tampered or hostile
// archive is rejected before anything in it is parsed.
import { createHash } from "node:crypto";
import { unzipSync } from "fflate";
import { err, ok, type Result } from "../../contract/result.js";

export const MAX_BUNDLE_BYTES = 200 * 1024 * 1024;
export const MAX_ZIP_ENTRIES = 50;
export const MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024;

export interface BundleChunk {
  data: Uint8Array;
  sha256: string;
}

/** Concatenates the chunks and verifies the SHA-256 carried by the last one. */
export function assembleBundle(chunks: readonly BundleChunk[]): Result<Uint8Array> {
  if (chunks.length === 0) return err("tokenizer bundle: no chunks");
  const digest = chunks[chunks.length - 1].sha256;
  if (!digest) return err("tokenizer bundle: last chunk carries no sha256");
  let total = 0;
  for (const c of chunks) total += c.data.length;
  if (total === 0) return err("tokenizer bundle: empty data");
  if (total > MAX_BUNDLE_BYTES) return err(`tokenizer bundle: ${total} bytes exceeds ${MAX_BUNDLE_BYTES}`);
  const buf = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    buf.set(c.data, off);
    off += c.data.length;
  }
  const actual = createHash("sha256").update(buf).digest("hex");
  if (actual !== digest.trim().toLowerCase()) return err(`tokenizer bundle: sha256 mismatch (got ${actual}, expected ${digest})`);
  return ok(buf);
}

/** Unzips in memory after checking entry count, paths and declared sizes. Returns name -> bytes. */
export function unzipBundle(zip: Uint8Array): Result<Map<string, Uint8Array>> {
  let entries = 0;
  let uncompressed = 0;
  let bad: string | undefined;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      // The filter sees the central directory before any inflating, so limits hold
      // even against a zip bomb (fflate sizes its output buffers from originalSize).
      filter: (f) => {
        entries++;
        uncompressed += f.originalSize;
        if (entries > MAX_ZIP_ENTRIES) bad ??= `more than ${MAX_ZIP_ENTRIES} entries`;
        else if (uncompressed > MAX_UNCOMPRESSED_BYTES) bad ??= `more than ${MAX_UNCOMPRESSED_BYTES} bytes uncompressed`;
        else if (!isSafePath(f.name)) bad ??= `unsafe path ${JSON.stringify(f.name)}`;
        return bad === undefined && !f.name.endsWith("/");
      },
    });
  } catch (e) {
    return err(`tokenizer bundle: not a valid zip (${(e as Error).message})`);
  }
  if (bad) return err(`tokenizer bundle: ${bad}`);
  return ok(new Map(Object.entries(files)));
}

function isSafePath(name: string): boolean {
  if (name.length === 0 || name.startsWith("/") || name.startsWith("\\") || /^[a-zA-Z]:/.test(name)) return false;
  return !name.split(/[/\\]/).some((part) => part === "..");
}
