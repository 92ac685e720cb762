// append.lua (pool): add events to a request's response stream, fenced by its write lease.
import type { Redis } from "ioredis";
import { keys, REQUEST_TTL_S, streamChannel } from "../keys.js";
import { runScript } from "../lua/index.js";
import type { ResponseEvent } from "../messages.js";

/**
 * "fenced" = another owner holds the write lease now (nothing was written);
 * "cancelled" (a lease refresh, no events) = the client cancelled the request.
 * notify: also SPUBLISH on the stream's shard channel (on a Redis Cluster, where edges
 * cannot block on one XREAD across many slots).
 */
export async function append(
  redis: Redis,
  p: { rid: string; token: string; leaseMs: number; events: readonly ResponseEvent[]; notify?: boolean },
): Promise<"ok" | "fenced" | "cancelled"> {
  const r = await runScript<unknown>(
    redis,
    "append",
    [keys.out(p.rid), keys.writeLease(p.rid), keys.cancel(p.rid)],
    [p.token, p.leaseMs, REQUEST_TTL_S, p.notify ? streamChannel(p.rid) : "", ...p.events.map((e) => JSON.stringify(e))],
  );
  return Array.isArray(r) ? "ok" : Number(r) === -1 ? "cancelled" : "fenced";
}

export interface AppendItem {
  rid: string;
  token: string;
  events: readonly ResponseEvent[];
}

/**
 * append-many.lua (pool, one Redis only): several requests' appends in one call, each
 * fenced by its own write lease; one result per item, in order, as append() gives it.
 */
export async function appendMany(redis: Redis, leaseMs: number, items: readonly AppendItem[]): Promise<("ok" | "fenced" | "cancelled")[]> {
  const keyList: string[] = [];
  const args: (string | number)[] = [leaseMs, REQUEST_TTL_S];
  for (const it of items) {
    keyList.push(keys.out(it.rid), keys.writeLease(it.rid), keys.cancel(it.rid));
    args.push(it.token, it.events.length);
    for (const e of it.events) args.push(JSON.stringify(e));
  }
  const r = await runScript<number[]>(redis, "appendMany", keyList, args);
  return r.map((v) => (Number(v) === 1 ? "ok" : Number(v) === -1 ? "cancelled" : "fenced"));
}
