// Keeps the leases of held jobs alive (extend.lua for the queue lease, an empty
// append for each write lease not refreshed lately by a real write) and reports
// the jobs this pool has lost.
import type { QueueClient } from "./client.js";

export interface HeldJob {
  rid: string;
  token: string;
  model: string;
  /** performance.now() when a write last refreshed the write lease (a streaming request's writes do every leaseMs/6: append.ts leaseRefreshMs). */
  leaseRefreshedAt?: number;
}

export interface ExtendOptions {
  /** performance.now() of this round */
  now: number;
  /**
   * A write lease refreshed by a real write less than this long ago is left alone: a
   * streaming request's writes refresh its own lease, so an empty append per request
   * per round would only add Redis calls (~77/s at 256 in flight).
   */
  freshMs: number;
  /**
   * Refresh every write lease this round, fresh or not: the empty append also reads the
   * durable cancel key, so a streaming request whose cancel message was missed is still
   * stopped (the dispatcher asks for it once per lease period, not every round).
   */
  checkAll?: boolean;
}

/**
 * Extends every held lease once; returns the rids that now belong to someone else, and
 * those whose client cancelled (the durable cancel key, read by the empty append of a
 * lease refresh: a cancel message may be missed, e.g. during a Redis Cluster failover).
 */
export async function extendAll(
  queue: QueueClient,
  held: readonly HeldJob[],
  opts: ExtendOptions,
): Promise<{ lost: string[]; cancelled: string[]; error?: string }> {
  const byModel = new Map<string, HeldJob[]>();
  for (const h of held) {
    const list = byModel.get(h.model);
    if (list) list.push(h);
    else byModel.set(h.model, [h]);
  }
  const lost = new Set<string>();
  const cancelled: string[] = [];
  let error: string | undefined;
  const queueLeases = [...byModel].map(async ([model, list]) => {
    const r = await queue.extend(model, list);
    if (r.ok) r.value.forEach((rid) => lost.add(rid));
    else error = r.error;
  });
  // The write lease lives in the request's own slot, so it is refreshed per request.
  const stale = opts.checkAll ? held : held.filter((h) => h.leaseRefreshedAt === undefined || opts.now - h.leaseRefreshedAt >= opts.freshMs);
  const writeLeases = stale.map(async (h) => {
    const r = await queue.append(h.rid, h.token, []);
    if (r.ok && r.value === "fenced") lost.add(h.rid);
    else if (r.ok && r.value === "cancelled") cancelled.push(h.rid);
    else if (!r.ok) error = r.error;
  });
  await Promise.all([...queueLeases, ...writeLeases]);
  return { lost: [...lost], cancelled: cancelled.filter((rid) => !lost.has(rid)), error };
}
