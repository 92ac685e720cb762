// Stored Responses API responses (store: true), per tenant in Redis under the
// tenant's own hash tag ({rs:<tenant>}), so one tenant's ids are not even
// addressable by another. A response is written when it is created (pending:
// its input items and the in-progress object, within the tenant's byte limit)
// and made final when its terminal event is in: by the relay's end hook, or,
// if nobody relayed the end (a client that left and never resumed), the first
// time it is read while its response stream still exists.
import type { Redis } from "ioredis";
import { REQUEST_TTL_S, keys } from "../../contract/queue/keys.js";
import { runScript } from "../../contract/queue/lua/index.js";
import { decodeEntry, type RawEntry } from "../streams/reader.js";
import type { Item } from "./items.js";
import { ResponseBuilder } from "./output.js";

export interface Stored {
  response: Record<string, unknown>;
  items: Item[];
}

const rsKeys = (tenant: string, id: string) => [keys.storedResponse(tenant, id), keys.storedExpiry(tenant), keys.storedBytes(tenant)];

/** Stores a new pending response. Returns false (nothing written) when it would take the tenant past `limitBytes`. */
export async function createStored(
  redis: Redis,
  p: { tenant: string; id: string; response: object; items: Item[]; ttlS: number; limitBytes: number | null; now: number },
): Promise<boolean> {
  const [ok] = await runScript<[number, number]>(redis, "storedCreate", rsKeys(p.tenant, p.id), [
    p.id,
    p.now,
    p.ttlS,
    p.limitBytes ?? -1,
    JSON.stringify(p.response),
    JSON.stringify(p.items),
  ]);
  return ok === 1;
}

/**
 * Rebuilds the final response object from the request's response stream when
 * it holds the terminal event; null while the response is still running. A
 * response whose stream is gone although it is older than a stream lives
 * (an edge died before it was queued) is final as failed.
 */
async function finalFromStream(redis: Redis, pending: Record<string, unknown>, now: number): Promise<Record<string, unknown> | null> {
  const id = pending.id as string;
  const raw = (await redis.xrange(keys.out(id), "-", "+")) as RawEntry[];
  const b = new ResponseBuilder(id, pending);
  if (raw.length === 0 && now - (pending.created_at as number) * 1000 > REQUEST_TTL_S * 1000) {
    const events = b.fail({ status: 500, type: "server_error", code: "internal_error", message: "The response was lost before it finished." });
    return events[events.length - 1]!.response as Record<string, unknown>;
  }
  for (const r of raw) {
    const ev = decodeEntry(r).event;
    if (ev.type === "chunk") b.add(ev);
    else {
      const events = ev.type === "done" ? b.done(ev.usage) : b.fail(ev.error);
      return events[events.length - 1]!.response as Record<string, unknown>;
    }
  }
  return null;
}

/** Makes a pending stored response final if its end is in (idempotent; the relay's end hook). */
export async function finishStored(redis: Redis, tenant: string, id: string, now = Date.now()): Promise<Record<string, unknown> | null> {
  const [state, raw] = await redis.hmget(keys.storedResponse(tenant, id), "s", "r");
  if (state !== "pending" || raw === null) return null;
  const final = await finalFromStream(redis, JSON.parse(raw) as Record<string, unknown>, now);
  if (final === null) return null;
  await runScript(redis, "storedFinish", [keys.storedResponse(tenant, id), keys.storedBytes(tenant)], [id, JSON.stringify(final)]);
  return final;
}

/** The tenant's stored response `id` (made final first if its end is in), or null. */
export async function readStored(redis: Redis, tenant: string, id: string): Promise<Stored | null> {
  const [state, raw, items] = await redis.hmget(keys.storedResponse(tenant, id), "s", "r", "i");
  if (raw === null || items === null) return null;
  const response = (state === "pending" ? await finishStored(redis, tenant, id) : null) ?? (JSON.parse(raw) as Record<string, unknown>);
  return { response, items: JSON.parse(items) as Item[] };
}

export async function deleteStored(redis: Redis, tenant: string, id: string): Promise<boolean> {
  return (await runScript<number>(redis, "storedDelete", rsKeys(tenant, id), [id])) === 1;
}

/** Bytes the tenant's stored responses hold now (expired ones may still count until the next create). */
export async function storedBytes(redis: Redis, tenant: string): Promise<number> {
  return Number((await redis.hget(keys.storedBytes(tenant), "@sum")) ?? 0);
}
