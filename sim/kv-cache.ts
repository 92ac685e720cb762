// Paged KV cache with prefix reuse and LRU eviction, like a real engine's
// radix/paged cache:
// - capacity is `totalBlocks` pages of `blockSize` tokens;
// - every FULL block of a sequence (prompt or output) is registered under a
//   position-aware chain hash (hash of parent hash + the block's tokens), so a
//   later request whose prompt starts with the same tokens reuses those pages;
// - finished sequences leave their blocks cached (ref count 0, evictable);
//   eviction takes the least recently released block first;
// - admission reserves pages for prompt + max output up front, so a running
//   sequence never runs out of pages (no preemption needed).
// It records KvEvents (stored / removed / cleared) that the engine publishes as
// SubscribeKvEvents batches.

export interface KvBlockInfo {
  hash: bigint;
  tokenIds: number[];
}

export type KvEvent =
  | { kind: "stored"; parentBlockHash?: bigint; blocks: KvBlockInfo[] }
  | { kind: "removed"; blockHashes: bigint[] }
  | { kind: "cleared" };

interface CachedBlock {
  hash: bigint;
  tokens: number[];
  refs: number;
}

/** A sequence's hold on the cache: its pages in order and its unused reservation. */
export interface KvSeq {
  /** One entry per page: a cached (shareable) block or null for a private page. */
  blocks: (CachedBlock | null)[];
  /** Pages reserved at admission and not yet allocated. */
  reserved: number;
  /** Chain hashes of the sequence's full blocks, as far as computed. */
  hashes: bigint[];
  /** Full blocks already considered for registration in the prefix cache. */
  registered: number;
  /** Prompt tokens found in the cache at admission (block aligned). */
  cachedTokens: number;
}

const MASK32 = 0xffffffffn;

/** Chain hash of one block: mixes the parent's hash and the block's tokens (two 32-bit lanes). */
export function chainHash(parent: bigint | undefined, tokens: ArrayLike<number>, start: number, end: number): bigint {
  let a = parent === undefined ? 0x9747b28c : Number(parent & MASK32);
  let b = parent === undefined ? 0x1b873593 : Number((parent >> 32n) & MASK32);
  for (let i = start; i < end; i++) {
    const t = tokens[i];
    a = Math.imul(a ^ t, 0x85ebca6b);
    a ^= a >>> 13;
    b = Math.imul(b ^ t, 0xc2b2ae35) + a;
    b ^= b >>> 16;
  }
  a = Math.imul(a ^ (a >>> 16), 0x7feb352d);
  b = Math.imul(b ^ (b >>> 15), 0x846ca68b) ^ a;
  // The proto field is int64: reduce to signed 64 bits.
  return BigInt.asIntN(64, (BigInt(b >>> 0) << 32n) | BigInt(a >>> 0));
}

export class KvCache {
  readonly totalBlocks: number;
  private free: number;
  private reservedOutstanding = 0;
  private readonly cached = new Map<bigint, CachedBlock>();
  /** Blocks with refs == 0, oldest first (Map keeps insertion order). */
  private readonly lru = new Map<bigint, CachedBlock>();
  private events: KvEvent[] = [];

  constructor(
    capacityTokens: number,
    readonly blockSize: number,
  ) {
    this.totalBlocks = Math.max(1, Math.floor(capacityTokens / blockSize));
    this.free = this.totalBlocks;
  }

  get capacityTokens(): number {
    return this.totalBlocks * this.blockSize;
  }

  /** Chain hashes of the full blocks of `tokens`. */
  hashBlocks(tokens: ArrayLike<number>, from: bigint[] = []): bigint[] {
    const out = from.slice();
    const full = Math.floor(tokens.length / this.blockSize);
    for (let i = out.length; i < full; i++) out.push(chainHash(out[i - 1], tokens, i * this.blockSize, (i + 1) * this.blockSize));
    return out;
  }

  /**
   * Leading full prompt blocks present in the cache. At least one prompt token
   * must still be computed (the engine needs logits for it), so a fully cached,
   * block-aligned prompt gives back its last block.
   */
  private matchBlocks(prompt: ArrayLike<number>, hashes: bigint[]): number {
    let m = 0;
    while (m < hashes.length && this.cached.has(hashes[m])) m++;
    return Math.min(m, Math.floor((prompt.length - 1) / this.blockSize));
  }

  /** Prompt tokens that would be served from cache now (no side effects). */
  peekCachedTokens(prompt: ArrayLike<number>): number {
    return this.matchBlocks(prompt, this.hashBlocks(prompt)) * this.blockSize;
  }

  /** Pages that could be handed out right now without breaking other reservations. */
  private available(): number {
    return this.free + this.lru.size - this.reservedOutstanding;
  }

  /**
   * Admits a sequence that may grow to `maxTotalTokens`: refs the cached prefix
   * and reserves pages for the rest. Returns null when the cache cannot hold it yet.
   */
  admit(prompt: ArrayLike<number>, maxTotalTokens: number): KvSeq | null {
    const hashes = this.hashBlocks(prompt);
    const m = this.matchBlocks(prompt, hashes);
    const matched = hashes.slice(0, m).map((h) => this.cached.get(h)!);
    const need = Math.ceil(maxTotalTokens / this.blockSize) - m;
    const idleMatched = matched.filter((b) => b.refs === 0).length;
    if (need > this.available() - idleMatched) return null;
    for (const b of matched) {
      if (b.refs++ === 0) this.lru.delete(b.hash);
    }
    this.reservedOutstanding += need;
    return { blocks: matched, reserved: need, hashes, registered: m, cachedTokens: m * this.blockSize };
  }

  /** Takes a free page, evicting the least recently used idle block if needed. */
  private takePage(): void {
    if (this.free > 0) {
      this.free--;
      return;
    }
    const oldest = this.lru.values().next();
    if (oldest.done) throw new Error("KV cache over-committed (bug: reservation accounting)");
    const b = oldest.value;
    this.lru.delete(b.hash);
    this.cached.delete(b.hash);
    const last = this.events[this.events.length - 1];
    if (last?.kind === "removed") last.blockHashes.push(b.hash);
    else this.events.push({ kind: "removed", blockHashes: [b.hash] });
  }

  /**
   * Brings the sequence's pages up to `count` tokens of `tokenAt` (prompt then
   * output) and registers newly completed full blocks in the prefix cache.
   */
  sync(seq: KvSeq, count: number, tokenAt: (i: number) => number): void {
    const bs = this.blockSize;
    const pages = Math.ceil(count / bs);
    while (seq.blocks.length < pages) {
      if (seq.reserved <= 0) throw new Error("sequence outgrew its KV reservation");
      seq.reserved--;
      this.reservedOutstanding--;
      this.takePage();
      seq.blocks.push(null);
    }
    const full = Math.floor(count / bs);
    let run: KvBlockInfo[] = [];
    let runParent: bigint | undefined;
    const flushRun = () => {
      if (run.length) this.events.push({ kind: "stored", parentBlockHash: runParent, blocks: run });
      run = [];
    };
    for (let i = seq.registered; i < full; i++) {
      const tokens = new Array<number>(bs);
      for (let j = 0; j < bs; j++) tokens[j] = tokenAt(i * bs + j);
      const parent = i > 0 ? seq.hashes[i - 1] : undefined;
      const hash = seq.hashes[i] ?? chainHash(parent, tokens, 0, bs);
      seq.hashes[i] = hash;
      if (seq.blocks[i] === null && !this.cached.has(hash)) {
        const b: CachedBlock = { hash, tokens, refs: 1 };
        this.cached.set(hash, b);
        seq.blocks[i] = b;
        if (!run.length) runParent = parent;
        run.push({ hash, tokenIds: tokens });
      } else {
        // Already cached by a concurrent sequence: keep our private copy, break the chain.
        flushRun();
      }
    }
    flushRun();
    seq.registered = Math.max(seq.registered, full);
  }

  /** Returns the sequence's pages: cached blocks become idle (evictable), private pages free. */
  release(seq: KvSeq): void {
    // Leaf-first so eviction takes the tail of a chain before its parents.
    for (let i = seq.blocks.length - 1; i >= 0; i--) {
      const b = seq.blocks[i];
      if (b === null) this.free++;
      else if (--b.refs === 0) this.lru.set(b.hash, b);
    }
    seq.blocks = [];
    this.reservedOutstanding -= seq.reserved;
    seq.reserved = 0;
  }

  /** Drops every cached block; refuses while any sequence holds pages (like the real engine). */
  flush(): boolean {
    if (this.reservedOutstanding > 0 || this.lru.size !== this.cached.size || this.free + this.lru.size !== this.totalBlocks) return false;
    this.cached.clear();
    this.lru.clear();
    this.free = this.totalBlocks;
    this.events.push({ kind: "cleared" });
    return true;
  }

  /** Events recorded since the last call. */
  takeEvents(): KvEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  stats() {
    return {
      totalBlocks: this.totalBlocks,
      freeBlocks: this.free,
      cachedBlocks: this.cached.size,
      idleCachedBlocks: this.lru.size,
      /** Pages held by live sequences (shared prefix pages counted once). */
      usedBlocks: this.totalBlocks - this.free - this.lru.size,
      reservedBlocks: this.reservedOutstanding,
    };
  }
}
