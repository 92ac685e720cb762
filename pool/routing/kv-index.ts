// What each worker holds in its prefix cache, for cache-aware routing (wire §3.10).
//
// EventIndex: built from the worker's SubscribeKvEvents batches. For every stored
// block we keep engine block_hash -> (position, rolling prefix hash); the prefix hash
// (kv-hash.ts) is what queries match. A chain whose parent is unknown is re-rooted at
// position 0 (like smg); `removed` drops blocks by engine hash; `cleared` drops all.
//
// ApproxIndex: for workers that publish no events (UNIMPLEMENTED, not connected yet,
// or just reset after a gap), the prefixes this pool sent them, LRU-bounded to the
// worker's KV capacity. It over-estimates what survives eviction, which is the same
// trade-off smg's approximate tree makes.
import type { KvCacheEvent } from "../../contract/grpc/tokenspeed/common_pb.js";
import { contentHash, prefixHashes, rollPrefix } from "./kv-hash.js";

export const DEFAULT_BLOCK_SIZE = 16;

interface StoredBlock {
  position: number;
  prefix: bigint;
}

/** One worker's cached blocks as told by its KV events. */
export class WorkerKvEvents {
  /** Learned from the first stored block (overrides the configured default). */
  blockSize: number | undefined;
  private readonly byEngineHash = new Map<bigint, StoredBlock>();
  /** prefix hash -> number of engine blocks carrying it (duplicates can exist after re-rooting). */
  private readonly prefixes = new Map<bigint, number>();

  get size(): number {
    return this.byEngineHash.size;
  }

  apply(events: readonly KvCacheEvent[]): void {
    for (const e of events) {
      switch (e.data.case) {
        case "stored": {
          const { blocks, parentBlockHash } = e.data.value;
          if (!blocks.length) break;
          if (this.blockSize === undefined && blocks[0].blockSize > 0) this.blockSize = blocks[0].blockSize;
          const parent = parentBlockHash === undefined ? undefined : this.byEngineHash.get(parentBlockHash);
          let position = parent ? parent.position + 1 : 0;
          let prev = parent?.prefix;
          for (const b of blocks) {
            const prefix = rollPrefix(prev, contentHash(b.tokenIds));
            const old = this.byEngineHash.get(b.blockHash);
            if (old) this.drop(b.blockHash, old);
            this.byEngineHash.set(b.blockHash, { position, prefix });
            this.prefixes.set(prefix, (this.prefixes.get(prefix) ?? 0) + 1);
            prev = prefix;
            position++;
          }
          break;
        }
        case "removed":
          for (const h of e.data.value.blockHashes) {
            const old = this.byEngineHash.get(h);
            if (old) this.drop(h, old);
          }
          break;
        case "cleared":
          this.clear();
          break;
      }
    }
  }

  private drop(engineHash: bigint, b: StoredBlock): void {
    this.byEngineHash.delete(engineHash);
    const n = (this.prefixes.get(b.prefix) ?? 1) - 1;
    if (n <= 0) this.prefixes.delete(b.prefix);
    else this.prefixes.set(b.prefix, n);
  }

  clear(): void {
    this.byEngineHash.clear();
    this.prefixes.clear();
  }

  has(prefix: bigint): boolean {
    return this.prefixes.has(prefix);
  }

  /** Every prefix hash held (tests compare it with the worker's cache). */
  prefixSet(): Set<bigint> {
    return new Set(this.prefixes.keys());
  }
}

/** The prefixes this pool routed to one worker, most recently used last. */
export class WorkerApprox {
  private readonly lru = new Map<bigint, true>();

  constructor(private capacityBlocks: number) {}

  setCapacity(blocks: number): void {
    this.capacityBlocks = Math.max(1, blocks);
    this.trim();
  }

  get size(): number {
    return this.lru.size;
  }

  insert(prefixes: readonly bigint[]): void {
    for (const p of prefixes) {
      this.lru.delete(p);
      this.lru.set(p, true);
    }
    this.trim();
  }

  private trim(): void {
    while (this.lru.size > this.capacityBlocks) {
      const oldest = this.lru.keys().next();
      if (oldest.done) break;
      this.lru.delete(oldest.value);
    }
  }

  has(prefix: bigint): boolean {
    return this.lru.has(prefix);
  }

  clear(): void {
    this.lru.clear();
  }
}

/** Prefix hashes of a query, computed once per block size. */
export class QueryHashes {
  private readonly byBlockSize = new Map<number, bigint[]>();
  constructor(readonly ids: readonly number[]) {}
  get(blockSize: number): bigint[] {
    let h = this.byBlockSize.get(blockSize);
    if (!h) this.byBlockSize.set(blockSize, (h = prefixHashes(this.ids, blockSize)));
    return h;
  }
}

/** Number of leading prefixes present. */
export function leadingMatches(hashes: readonly bigint[], has: (p: bigint) => boolean): number {
  let m = 0;
  while (m < hashes.length && has(hashes[m])) m++;
  return m;
}

export interface KvIndexOptions {
  /** Block size used until a worker's first stored block tells us its own. */
  defaultBlockSize: number;
  /** Bound of each worker's approximate index, in blocks (until GetServerInfo says better). */
  approxCapacityBlocks: number;
}

export type MatchSource = "events" | "approx";

/** Both indexes for every worker, keyed by worker address. */
export class KvIndex {
  readonly events = new Map<string, WorkerKvEvents>();
  readonly approx = new Map<string, WorkerApprox>();
  /** Workers whose event stream is live: queries use their EventIndex, else the approximation. */
  private readonly live = new Set<string>();

  constructor(readonly opts: KvIndexOptions) {}

  private ev(address: string): WorkerKvEvents {
    let w = this.events.get(address);
    if (!w) this.events.set(address, (w = new WorkerKvEvents()));
    return w;
  }

  private ap(address: string): WorkerApprox {
    let w = this.approx.get(address);
    if (!w) this.approx.set(address, (w = new WorkerApprox(this.opts.approxCapacityBlocks)));
    return w;
  }

  /** The worker's subscription is live (true) or gone (false: fall back to the approximation). */
  setLive(address: string, live: boolean): void {
    if (live) this.live.add(address);
    else this.live.delete(address);
  }

  isLive(address: string): boolean {
    return this.live.has(address);
  }

  applyEvents(address: string, events: readonly KvCacheEvent[]): void {
    this.ev(address).apply(events);
  }

  /** Drops what the events told us (stale after a sequence gap). */
  resetEvents(address: string): void {
    this.events.get(address)?.clear();
  }

  setApproxCapacity(address: string, blocks: number): void {
    this.ap(address).setCapacity(blocks);
  }

  /** Records that `ids` were sent to the worker (it will hold their KV afterwards). */
  recordSent(address: string, q: QueryHashes): void {
    this.ap(address).insert(q.get(this.blockSizeOf(address)));
  }

  blockSizeOf(address: string): number {
    return this.events.get(address)?.blockSize ?? this.opts.defaultBlockSize;
  }

  /** Prompt tokens of `q` the worker holds as leading full blocks, and where that knowledge came from. */
  match(address: string, q: QueryHashes): { tokens: number; source: MatchSource } {
    const bs = this.blockSizeOf(address);
    const hashes = q.get(bs);
    if (this.live.has(address)) {
      const ev = this.ev(address);
      return { tokens: leadingMatches(hashes, (p) => ev.has(p)) * bs, source: "events" };
    }
    const ap = this.ap(address);
    return { tokens: leadingMatches(hashes, (p) => ap.has(p)) * bs, source: "approx" };
  }

  remove(address: string): void {
    this.events.delete(address);
    this.approx.delete(address);
    this.live.delete(address);
  }
}
