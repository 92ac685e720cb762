// append.lua (pool): add events to a request's response stream, fenced by its write lease.
import type { Redis } from "ioredis";
import { keys, REQUEST_TTL_S, streamChannel } from "../keys.js";
import { pipelineScript, runScript, scriptPipeline } from "../lua/index.js";
import type { ResponseEvent } from "../messages.js";

export type AppendParams = { rid: string; token: string; leaseMs: number; events: readonly ResponseEvent[]; notify?: boolean };
export type Outcome = "ok" | "fenced" | "cancelled";

function appendCall(p: AppendParams): [string[], (string | number)[]] {
  return [
    [keys.out(p.rid), keys.writeLease(p.rid), keys.cancel(p.rid), keys.pushTo(p.rid)],
    [p.token, p.leaseMs, REQUEST_TTL_S, p.notify ? streamChannel(p.rid) : "", ...p.events.map((e) => JSON.stringify(e))],
  ];
}

const outcome = (r: unknown): Outcome => (Array.isArray(r) ? "ok" : Number(r) === -1 ? "cancelled" : "fenced");

/**
 * "fenced" = another owner holds the write lease now (nothing was written);
 * "cancelled" (a lease refresh, no events) = the client cancelled the request.
 * notify: also SPUBLISH on the stream's shard channel (on a Redis Cluster, where edges
 * cannot block on one XREAD across many slots).
 */
export async function append(redis: Redis, p: AppendParams): Promise<Outcome> {
  const [k, a] = appendCall(p);
  return outcome(await runScript<unknown>(redis, "append", k, a));
}

/**
 * Several append.lua calls in one pipeline (one socket write). On a Redis Cluster every
 * request's keys must be served by the same node. One result or error per call, in order;
 * rejects only if the pipeline as a whole failed.
 */
export async function appendPipelined(redis: Redis, calls: readonly AppendParams[]): Promise<(Outcome | Error)[]> {
  const pipeline = scriptPipeline(redis);
  for (const p of calls) pipelineScript(redis, pipeline, "append", ...appendCall(p));
  const replies = (await pipeline.exec()) ?? [];
  return calls.map((_, i) => {
    const [e, r] = replies[i] ?? [new Error("no reply"), null];
    return e ? e : outcome(r);
  });
}

/**
 * What the lease holder knows of a stream it writes, so append-many.lua need not read it
 * back or refresh what a recent write refreshed: the id of its last entry (null: not
 * known yet), and when its write lease and its TTLs were last refreshed (performance.now()).
 * Kept by whoever makes every write of the stream (the request's writer) and updated by
 * appendMany (and, on a cluster, by the batcher: append.lua refreshes both every time).
 */
export interface StreamCursor {
  lastId: string | null;
  ttlRefreshedAt: number;
  leaseRefreshedAt: number;
}

export const newStreamCursor = (): StreamCursor => ({ lastId: null, ttlRefreshedAt: -Infinity, leaseRefreshedAt: -Infinity });

/** How often a cursor's writes refresh the stream's TTLs: far inside REQUEST_TTL_S. */
export const TTL_REFRESH_MS = 60_000;

/**
 * How often a cursor's writes refresh the write lease, as a fraction of the lease: the
 * lease keeper (pool/queue/leases.ts) skips a lease refreshed within leaseMs/6 and runs
 * every leaseMs/3, so a lease is never older than half its TTL when it is refreshed.
 */
export const leaseRefreshMs = (leaseMs: number) => leaseMs / 6;

export interface AppendItem {
  rid: string;
  token: string;
  events: readonly ResponseEvent[];
  /** the stream's cursor, when one writer makes all its writes (none: read back, refresh every time) */
  cursor?: StreamCursor;
}

/**
 * append-many.lua (pool, one Redis only): several requests' appends in one call, each
 * fenced by its own write lease; one result per item, in order, as append() gives it.
 * Items with a cursor pass their last id, refresh the write lease only every
 * leaseRefreshMs and the TTLs every TTL_REFRESH_MS; a written item's cursor moves to its
 * new last id and refresh times. Items without one refresh everything.
 */
export async function appendMany(redis: Redis, leaseMs: number, items: readonly AppendItem[], now = performance.now()): Promise<Outcome[]> {
  const keyList: string[] = [];
  const args: (string | number)[] = [leaseMs, REQUEST_TTL_S];
  const refreshed: Refresh[] = [];
  const leaseDue = now - leaseRefreshMs(leaseMs);
  for (const it of items) {
    keyList.push(keys.out(it.rid), keys.writeLease(it.rid), keys.cancel(it.rid), keys.pushTo(it.rid));
    const c = it.cursor;
    const refresh: Refresh = !c || c.lastId === null || now - c.ttlRefreshedAt >= TTL_REFRESH_MS ? 2 : c.leaseRefreshedAt <= leaseDue ? 1 : 0;
    refreshed.push(refresh);
    args.push(it.token, c?.lastId ?? "", refresh, it.events.length);
    for (const e of it.events) args.push(JSON.stringify(e));
  }
  const r = await runScript<(number | string)[]>(redis, "appendMany", keyList, args);
  return r.map((v, i) => {
    if (typeof v === "string") {
      const c = items[i]!.cursor;
      if (c) {
        c.lastId = v;
        if (refreshed[i]! >= 1) c.leaseRefreshedAt = now;
        if (refreshed[i] === 2) c.ttlRefreshedAt = now;
      }
      return "ok";
    }
    return Number(v) === 1 ? "ok" : Number(v) === -1 ? "cancelled" : "fenced";
  });
}

/** append-many.lua's refresh argument: 0 nothing, 1 the write lease, 2 the lease and the TTLs. */
type Refresh = 0 | 1 | 2;
