// Keeps the leases of held jobs alive (extend.lua for the queue lease, an empty
// append for each write lease) and reports the jobs this pool has lost.
import type { QueueClient } from "./client.js";

export interface HeldJob {
  rid: string;
  token: string;
  model: string;
}

/**
 * Extends every held lease once; returns the rids that now belong to someone else, and
 * those whose client cancelled (the durable cancel key: a cancel message may be missed).
 */
export async function extendAll(queue: QueueClient, held: readonly HeldJob[]): Promise<{ lost: string[]; cancelled: string[]; error?: string }> {
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
  const writeLeases = held.map(async (h) => {
    const r = await queue.append(h.rid, h.token, []);
    if (r.ok && r.value === "fenced") lost.add(h.rid);
    else if (r.ok && r.value === "cancelled") cancelled.push(h.rid);
    else if (!r.ok) error = r.error;
  });
  await Promise.all([...queueLeases, ...writeLeases]);
  return { lost: [...lost], cancelled: cancelled.filter((rid) => !lost.has(rid)), error };
}
