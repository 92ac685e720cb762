// Tenants and their API keys as stored in Redis. The key secret is never
// stored: only its SHA-256 (WebCrypto, so this runs on Node and workerd alike).
import type { Redis } from "ioredis";
import { z } from "zod";
import { keys } from "../contract/queue/keys.js";
import { ApiKeyRecordSchema, type ApiKeyRecord } from "../contract/queue/messages.js";
import { TenantSchema, type Limits, type Tenant } from "../contract/queue/tenancy.js";

export { TenantSchema, type Tenant } from "../contract/queue/tenancy.js";

/** Lowercase hex SHA-256 of a string (the lookup key of an API key). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  let hex = "";
  for (const b of new Uint8Array(digest)) hex += b.toString(16).padStart(2, "0");
  return hex;
}

export interface SeedApiKeyOptions {
  tenantId: string;
  tenantName?: string;
  key: string;
  /** default: 1 */
  priority?: number;
  limits?: Limits;
  /** the key's own (tighter) limits */
  keyLimits?: Limits;
  /** default: a key id derived from the hash */
  keyId?: string;
  /** null = every model */
  models?: string[] | null;
  expiresAt?: number | null;
  revoked?: boolean;
}

/**
 * Stores (or overwrites) a tenant and one hashed API key for it. Used by the
 * dev script, benchmarks and tests (the admin API creates keys with random secrets).
 */
export async function seedApiKey(redis: Redis, opts: SeedApiKeyOptions): Promise<{ tenant: Tenant; record: ApiKeyRecord }> {
  const hash = await sha256Hex(opts.key);
  const tenant = TenantSchema.parse({
    id: opts.tenantId,
    name: opts.tenantName ?? opts.tenantId,
    priority: opts.priority ?? 1,
    limits: opts.limits ?? {},
  });
  const record = ApiKeyRecordSchema.parse({
    key_id: opts.keyId ?? `key_${hash.slice(0, 12)}`,
    tenant_id: opts.tenantId,
    name: opts.tenantName ?? "",
    created_at: Date.now(),
    expires_at: opts.expiresAt ?? null,
    revoked: opts.revoked ?? false,
    models: opts.models ?? null,
    limits: opts.keyLimits ?? {},
  });
  // Ordered steps, not one MULTI: the key record and the tenant index live in other
  // slots than the tenant's keys on a Redis Cluster (edge/admin/store.ts explains the order).
  await redis.multi().set(keys.tenant(tenant.id), JSON.stringify(tenant)).hset(keys.tenantKeys(tenant.id), record.key_id, hash).exec();
  await redis.sadd(keys.tenantIndex(), tenant.id);
  await redis.set(keys.apiKey(hash), JSON.stringify(record));
  return { tenant, record };
}

/** Reads a tenant; null when missing or unreadable (treated as an unusable key). */
export async function loadTenant(redis: Redis, tenantId: string): Promise<Tenant | null> {
  const raw = await redis.get(keys.tenant(tenantId));
  if (raw === null) return null;
  const parsed = TenantSchema.safeParse(safeJson(raw));
  return parsed.success ? parsed.data : null;
}

/** Reads the record of a key hash; null when missing or unreadable. */
export async function loadApiKey(redis: Redis, keyHash: string): Promise<ApiKeyRecord | null> {
  return (await loadApiKeyRaw(redis, keyHash))?.record ?? null;
}

/** The record of a key hash and its JSON as stored (for admit.lua's key guard); null when missing or unreadable. */
export async function loadApiKeyRaw(redis: Redis, keyHash: string): Promise<{ record: ApiKeyRecord; raw: string } | null> {
  const raw = await redis.get(keys.apiKey(keyHash));
  if (raw === null) return null;
  const parsed = ApiKeyRecordSchema.safeParse(safeJson(raw));
  return parsed.success ? { record: parsed.data, raw } : null;
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
