// Tenants and their API keys as stored in Redis. The key secret is never
// stored: only its SHA-256 (WebCrypto, so this runs on Node and workerd alike).
import type { Redis } from "ioredis";
import { z } from "zod";
import { keys } from "../proto/queue/keys.js";
import { ApiKeyRecordSchema, type ApiKeyRecord } from "../proto/queue/messages.js";

export const TenantLimitsSchema = z.object({
  /** Max requests waiting in one model's queue for this tenant (0 = the edge default). */
  max_queued: z.number().int().nonnegative().default(0),
  /** Quotas enforced by the admission layer (a later issue); null = unlimited. */
  requests_per_minute: z.number().int().positive().nullable().default(null),
  tokens_per_minute: z.number().int().positive().nullable().default(null),
});
export type TenantLimits = z.infer<typeof TenantLimitsSchema>;

export const TenantSchema = z.object({
  id: z.string().min(1),
  name: z.string().default(""),
  /** Fair-queue weight: a tenant with priority 2 gets twice the share of a busy model. */
  priority: z.number().positive().default(1),
  limits: TenantLimitsSchema.default(() => TenantLimitsSchema.parse({})),
});
export type Tenant = z.infer<typeof TenantSchema>;

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
  limits?: Partial<TenantLimits>;
  /** default: a key id derived from the hash */
  keyId?: string;
  /** null = every model */
  models?: string[] | null;
  expiresAt?: number | null;
  revoked?: boolean;
}

/**
 * Stores (or overwrites) a tenant and one hashed API key for it. Used by the
 * dev script, benchmarks and tests until the admin API exists.
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
  });
  await redis.set(keys.tenant(tenant.id), JSON.stringify(tenant));
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
  const raw = await redis.get(keys.apiKey(keyHash));
  if (raw === null) return null;
  const parsed = ApiKeyRecordSchema.safeParse(safeJson(raw));
  return parsed.success ? parsed.data : null;
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
