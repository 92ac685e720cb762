// Gathers the appends of one event-loop turn and sends them together. Token messages
// from the workers arrive in separate I/O callbacks, so a per-tick batch (ioredis
// auto-pipelining) holds one append; a turn holds ~30 at 64 streams. The batch goes out
// from setImmediate, right after the turn's I/O callbacks: no timer, no added wait
// beyond the turn. Each caller still gets its own result (fenced, cancelled), through
// a callback (add: the per-token path, no promise per append) or a promise (append).
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

/** Gets one append's outcome, or the error of the call it went out in. */
export type AppendDone = (r: Outcome | Error) => void;

/** An append waiting for its turn's call, and how to answer its caller. */
interface Pending {
  item: AppendItem;
  done: AppendDone;
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** Answers one caller; a caller that throws (a bug) cannot keep the others of its call from their answers. */
function answerCaller(p: Pending, r: Outcome | Error): void {
  try {
    p.done(r);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

/** Sends one turn's appends and answers each caller (no extra promise per token on this path). */
type SendTurn = (part: Pending[]) => void;

export class AppendBatcher {
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly send: SendTurn;

  constructor(redis: Redis, leaseMs: number) {
    this.send = redis.isCluster ? perMaster(redis, leaseMs) : oneScript(redis, leaseMs);
  }

  /** Queues an append for this turn's call; `done` is called once with its outcome. */
  add(item: AppendItem, done: AppendDone): void {
    this.pending.push({ item, done });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  append(item: AppendItem): Promise<Outcome> {
    return new Promise((resolve, reject) => this.add(item, (r) => (r instanceof Error ? reject(r) : resolve(r))));
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) this.send(all.slice(i, i + MAX_BATCH));
  }
}

function oneScript(redis: Redis, leaseMs: number): SendTurn {
  return (part) => {
    appendMany(
      redis,
      leaseMs,
      part.map((p) => p.item),
    ).then(
      (results) => part.forEach((p, j) => answerCaller(p, results[j] ?? "fenced")),
      (e) => part.forEach((p) => answerCaller(p, asError(e))),
    );
  };
}

/** Errors that mean the call did not run because its slot is elsewhere now (or not served yet). */
const MOVED_SLOT = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/;

function perMaster(redis: Redis, leaseMs: number): SendTurn {
  const cluster = redis as unknown as Cluster;
  // append.lua refreshes the write lease on every write: the lease keeper can skip it.
  const answer = (p: Pending, r: Outcome | Error, sentAt: number) => {
    if (r === "ok" && p.item.cursor) p.item.cursor.leaseRefreshedAt = sentAt;
    answerCaller(p, r);
  };
  const alone = (p: Pending) => {
    const sentAt = performance.now();
    void append(redis, { ...p.item, leaseMs, notify: true }).then(
      (r) => answer(p, r, sentAt),
      (e) => answer(p, asError(e), sentAt),
    );
  };
  return (part) => {
    // Grouped as ioredis checks a cluster pipeline: by the nodes serving each slot.
    const groups = new Map<string, Pending[]>();
    for (const p of part) {
      const node = cluster.slots[keySlot(keys.out(p.item.rid))]?.join(",") ?? "";
      const g = groups.get(node);
      if (g) g.push(p);
      else groups.set(node, [p]);
    }
    for (const [node, group] of groups) {
      if (node === "" || group.length === 1) {
        group.forEach(alone); // slot map not known yet, or nothing to share a write with
        continue;
      }
      const sentAt = performance.now();
      appendPipelined(
        redis,
        group.map((p) => ({ ...p.item, leaseMs, notify: true })),
      ).then(
        (results) =>
          group.forEach((p, j) => {
            const r = results[j]!;
            if (r instanceof Error) {
              if (MOVED_SLOT.test(r.message)) alone(p);
              else answer(p, r, sentAt);
            } else answer(p, r, sentAt);
          }),
        () => group.forEach(alone),
      );
    }
  };
}
