// Block hashing for the KV index, exactly as smg's PositionalIndexer does it (wire §3.10):
// - content hash of a block = XXH3-64 (seed 1337) over its token ids, each written as
//   4 little-endian bytes;
// - rolling prefix hash: at position 0 the content hash itself, then
//   XXH3-64 (seed 1337) over 16 bytes = previous prefix hash (LE) ‖ content hash (LE).
// The prefix hash at position p identifies the whole prefix of p+1 blocks, so two
// workers hold "the same first p+1 blocks" iff they hold the same prefix hash.
import { xxh3 } from "@node-rs/xxhash";

export const KV_HASH_SEED = 1337n;

const pair = Buffer.alloc(16);

/** XXH3-64 (seed 1337) of token ids [start, end) as 4-byte little-endian words. */
export function contentHash(ids: ArrayLike<number>, start = 0, end = ids.length): bigint {
  const buf = Buffer.allocUnsafe((end - start) * 4);
  for (let i = start; i < end; i++) buf.writeUInt32LE(ids[i] >>> 0, (i - start) * 4);
  return xxh3.xxh64(buf, KV_HASH_SEED);
}

/** Next rolling prefix hash: XXH3-64(prev LE ‖ content LE); at position 0 (prev undefined) the content hash. */
export function rollPrefix(prev: bigint | undefined, content: bigint): bigint {
  if (prev === undefined) return content;
  pair.writeBigUInt64LE(BigInt.asUintN(64, prev), 0);
  pair.writeBigUInt64LE(BigInt.asUintN(64, content), 8);
  return xxh3.xxh64(pair, KV_HASH_SEED);
}

/** Rolling prefix hashes of every full block of `ids` (a trailing partial block is ignored). */
export function prefixHashes(ids: ArrayLike<number>, blockSize: number, maxBlocks = Infinity): bigint[] {
  const full = Math.min(Math.floor(ids.length / blockSize), maxBlocks);
  const out = new Array<bigint>(full);
  // One buffer for the whole prompt; per block a subarray view (no copies).
  const buf = Buffer.allocUnsafe(full * blockSize * 4);
  for (let i = 0; i < full * blockSize; i++) buf.writeUInt32LE(ids[i] >>> 0, i * 4);
  let prev: bigint | undefined;
  for (let b = 0; b < full; b++) {
    const c = xxh3.xxh64(buf.subarray(b * blockSize * 4, (b + 1) * blockSize * 4), KV_HASH_SEED);
    prev = rollPrefix(prev, c);
    out[b] = prev;
  }
  return out;
}
