// Gathers the appends of one event-loop turn and sends them together. Token messages
// from the workers arrive in separate I/O callbacks, so a per-tick batch (ioredis
// auto-pipelining) holds one append; a turn holds ~30 at 64 streams. The batch goes out
// from setImmediate, right after the turn's I/O callbacks: no timer, no added wait
// beyond the turn. Each caller still gets its own result (fenced, cancelled).
//  - one Redis: one append-many.lua call for the turn (every append of a failed call
//    gets the error);
//  - a Redis Cluster: the keys span slots, so each request keeps its own append.lua,
//    sent as one pipeline per master (ioredis's auto-pipelining is off on a cluster:
//    contract/node/redis-connect.ts). A call the pipeline could not place (a slot moved
//    in a failover, or the pipeline failed as a whole) is retried on its own, where ioredis follows MOVED and ASK.
import type { Cluster, Redis } from "ioredis";
import { keys } from "../../contract/queue/keys.js";
import { keySlot } from "../../contract/node/key-slot.js";
import { append, appendMany, appendPipelined, type AppendItem, type Outcome } from "../../contract/queue/scripts/append.js";

/** requests per script call or pipeline: bounds one call's KEYS and its time inside Redis */
const MAX_BATCH = 256;

/** Sends one turn's appends; one promise per item, in order. */
type SendTurn = (items: AppendItem[]) => Promise<Outcome>[];

export class AppendBatcher {
  private pending: { item: AppendItem; resolve: (r: Outcome) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private readonly send: SendTurn;

  constructor(redis: Redis, leaseMs: number) {
    this.send = redis.isCluster ? perMaster(redis, leaseMs) : oneScript(redis, leaseMs);
  }

  append(item: AppendItem): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) {
      const part = all.slice(i, i + MAX_BATCH);
      this.send(part.map((p) => p.item)).forEach((result, j) => result.then(part[j]!.resolve, part[j]!.reject));
    }
  }
}

function oneScript(redis: Redis, leaseMs: number): SendTurn {
  return (items) => {
    const all = appendMany(redis, leaseMs, items);
    return items.map((_, j) => all.then((results) => results[j] ?? "fenced"));
  };
}

/** Errors that mean the call did not run because its slot is elsewhere now (or not served yet). */
const MOVED_SLOT = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/;

function perMaster(redis: Redis, leaseMs: number): SendTurn {
  const cluster = redis as unknown as Cluster;
  const alone = (it: AppendItem) => append(redis, { ...it, leaseMs, notify: true });
  return (items) => {
    // Grouped as ioredis checks a cluster pipeline: by the nodes serving each slot.
    const groups = new Map<string, number[]>();
    items.forEach((it, i) => {
      const node = cluster.slots[keySlot(keys.out(it.rid))]?.join(",") ?? "";
      const g = groups.get(node);
      if (g) g.push(i);
      else groups.set(node, [i]);
    });
    const out: Promise<Outcome>[] = new Array(items.length);
    for (const [node, idx] of groups) {
      if (node === "" || idx.length === 1) {
        for (const i of idx) out[i] = alone(items[i]!); // slot map not known yet, or nothing to share a write with
        continue;
      }
      const sent = appendPipelined(
        redis,
        idx.map((i) => ({ ...items[i]!, leaseMs, notify: true })),
      ).catch(() => idx.map(() => null));
      idx.forEach(
        (i, j) =>
          (out[i] = sent.then((res) => {
            const r = res[j];
            if (r === null || (r instanceof Error && MOVED_SLOT.test(r.message))) return alone(items[i]!);
            if (r instanceof Error) throw r;
            return r!;
          })),
      );
    }
    return out;
  };
}
