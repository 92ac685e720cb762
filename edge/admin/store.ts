// Tenants and API keys in Redis: the operations behind the admin API and CLI.
// Secrets are returned once at creation and only their SHA-256 is stored.
// A tenant's own keys share its {t:<id>} slot, but an API key record (sg:key:<hash>)
// and the tenant index have slots of their own, so on a Redis Cluster no transaction
// may span them: writes are ordered, idempotent steps whose every prefix is harmless
// (an index entry without a record is skipped, a key is listed before it works and
// stops working before it is unlisted).
import type { Redis } from "ioredis";
import { keys, utcDay } from "../../contract/queue/keys.js";
import { ApiKeyRecordSchema, type ApiKeyRecord } from "../../contract/queue/messages.js";
import { TenantSchema, type Limits, type Tenant } from "../../contract/queue/tenancy.js";
import { sha256Hex } from "../tenants.js";

function randomToken(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...buf)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const parseJson = (raw: string | null): unknown => {
  if (raw === null) return null;
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
};

export async function getTenant(redis: Redis, id: string): Promise<Tenant | null> {
  const parsed = TenantSchema.safeParse(parseJson(await redis.get(keys.tenant(id))));
  return parsed.success ? parsed.data : null;
}

export async function listTenants(redis: Redis): Promise<Tenant[]> {
  const ids = (await redis.smembers(keys.tenantIndex())).sort();
  const all = await Promise.all(ids.map((id) => getTenant(redis, id)));
  return all.filter((t): t is Tenant => t !== null);
}

export async function createTenant(
  redis: Redis,
  input: { name: string; limits?: Limits; priority?: number; id?: string },
  now: number,
): Promise<Tenant> {
  const tenant = TenantSchema.parse({
    id: input.id ?? `ten_${randomToken(9)}`,
    name: input.name,
    priority: input.priority ?? 1,
    limits: input.limits ?? {},
    created_at: now,
  });
  await redis.set(keys.tenant(tenant.id), JSON.stringify(tenant));
  await redis.sadd(keys.tenantIndex(), tenant.id);
  return tenant;
}

/** Merges a patch into a tenant; a limit set to null removes it. */
export async function patchTenant(
  redis: Redis,
  id: string,
  patch: { name?: string; limits?: Limits; priority?: number },
): Promise<Tenant | null> {
  const current = await getTenant(redis, id);
  if (!current) return null;
  const limits = { ...current.limits, ...(patch.limits ?? {}) };
  for (const [k, v] of Object.entries(limits)) if (v === null) delete (limits as Record<string, unknown>)[k];
  const next = TenantSchema.parse({ ...current, ...patch, limits });
  await redis.set(keys.tenant(id), JSON.stringify(next));
  return next;
}

/** Deletes a tenant and every key it has (they stop working at once). */
export async function deleteTenant(redis: Redis, id: string): Promise<boolean> {
  const hashes = Object.values(await redis.hgetall(keys.tenantKeys(id)));
  // keys stop working first (each record in its own slot), then the tenant's slot, then the index
  await Promise.all(hashes.map((h) => redis.del(keys.apiKey(h))));
  await redis.multi().del(keys.tenantKeys(id)).del(keys.tenant(id)).exec();
  return (await redis.srem(keys.tenantIndex(), id)) === 1;
}

export async function createKey(
  redis: Redis,
  tenantId: string,
  input: { name?: string; expires_at?: number | null; models?: string[] | null; limits?: Limits; secret?: string },
  now: number,
): Promise<{ key: string; record: ApiKeyRecord }> {
  const secret = input.secret ?? `sk-sg-${randomToken(24)}`;
  const hash = await sha256Hex(secret);
  const record = ApiKeyRecordSchema.parse({
    key_id: `key_${randomToken(9)}`,
    tenant_id: tenantId,
    name: input.name ?? "",
    created_at: now,
    expires_at: input.expires_at ?? null,
    models: input.models ?? null,
    limits: input.limits ?? {},
  });
  // listed (revocable) before it works
  await redis.hset(keys.tenantKeys(tenantId), record.key_id, hash);
  await redis.set(keys.apiKey(hash), JSON.stringify(record));
  return { key: secret, record };
}

export async function listKeys(redis: Redis, tenantId: string): Promise<ApiKeyRecord[]> {
  const hashes = Object.values(await redis.hgetall(keys.tenantKeys(tenantId)));
  if (hashes.length === 0) return [];
  // one GET per record (each in its own slot; no cross-slot MGET on a cluster)
  const raws = await Promise.all(hashes.map((h) => redis.get(keys.apiKey(h))));
  return raws
    .map((raw) => ApiKeyRecordSchema.safeParse(parseJson(raw)))
    .filter((p) => p.success)
    .map((p) => p.data!)
    .sort((a, b) => a.created_at - b.created_at);
}

/** Revokes a key: the record stays (marked revoked) for listing; auth refuses it from the next request on. */
export async function revokeKey(redis: Redis, tenantId: string, keyId: string): Promise<boolean> {
  const hash = await redis.hget(keys.tenantKeys(tenantId), keyId);
  if (!hash) return false;
  const parsed = ApiKeyRecordSchema.safeParse(parseJson(await redis.get(keys.apiKey(hash))));
  if (!parsed.success) return false;
  await redis.set(keys.apiKey(hash), JSON.stringify({ ...parsed.data, revoked: true }));
  return true;
}

export interface DailyUsage {
  date: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
}

/** Usage per UTC day for the last `days` days (oldest first), from the counters settle.lua keeps. */
export async function tenantUsage(redis: Redis, tenantId: string, days: number, now: number): Promise<DailyUsage[]> {
  const dates = Array.from({ length: days }, (_, i) => utcDay(now - (days - 1 - i) * 86_400_000));
  const tx = redis.multi();
  for (const d of dates) tx.hgetall(keys.usage(tenantId, d));
  const res = (await tx.exec()) ?? [];
  return dates.map((date, i) => {
    const h = (res[i]?.[1] ?? {}) as Record<string, string>;
    return {
      date,
      requests: Number(h.requests ?? 0),
      prompt_tokens: Number(h.prompt_tokens ?? 0),
      completion_tokens: Number(h.completion_tokens ?? 0),
      cached_tokens: Number(h.cached_tokens ?? 0),
    };
  });
}
