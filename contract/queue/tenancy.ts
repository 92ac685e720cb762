// Tenants, their limits, and quota admission/settlement over Redis. Shared by
// the edge (admit on each request) and the pool (settle when a request ends).
// No runtime-specific imports: this also runs in workerd.
import type { Redis } from "ioredis";
import { z } from "zod";
import { keys, utcDay } from "./keys.js";
import { runScript } from "./lua/index.js";

export const LimitsSchema = z
  .object({
    requests_per_minute: z.number().int().nonnegative().nullable().optional(),
    tokens_per_minute: z.number().int().nonnegative().nullable().optional(),
    max_concurrent_requests: z.number().int().nonnegative().nullable().optional(),
    tokens_per_day: z.number().int().nonnegative().nullable().optional(),
    max_queued_requests: z.number().int().nonnegative().nullable().optional(),
  })
  .strict();
export type Limits = z.infer<typeof LimitsSchema>;

export const TenantSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** weight in the fair queue: a tenant of priority 2 gets twice the tokens of one of priority 1 when both wait */
  priority: z.number().positive().default(1),
  limits: LimitsSchema.default({}),
  created_at: z.number().default(0),
});
export type Tenant = z.infer<typeof TenantSchema>;

/** Concurrency leases and reservations outlive a request by at most this long if every holder dies. */
export const DEFAULT_LEASE_MS = 15 * 60 * 1000;
const DAY_TTL_S = 2 * 24 * 3600;
const USAGE_TTL_S = 400 * 24 * 3600;

export interface Scope {
  tenantId: string;
  keyId: string | null;
  limits: Limits;
}

export interface AdmitResult {
  ok: boolean;
  reason: "" | "requests" | "tokens" | "concurrency" | "daily_tokens" | "too_large";
  retryAfterMs: number;
  /** for x-ratelimit-* headers; limit null = unlimited */
  requests: { limit: number | null; remaining: number | null; resetMs: number };
  tokens: { limit: number | null; remaining: number | null; resetMs: number };
}

const lim = (x: number | null | undefined) => (x === null || x === undefined ? -1 : x);

function scopeKeys(scope: Scope, day: string): string[] {
  const q = keys.quota(scope.tenantId, scope.keyId);
  return [q.reqWindow, q.tokWindow, q.tokAmounts, q.concurrency, q.day(day)];
}

/** Admits one request against the tenant scope and (if it has limits) the key scope, atomically. */
export async function admit(
  redis: Redis,
  p: { rid: string; tenant: Scope; key: Scope | null; reserveTokens: number; now: number; leaseMs?: number },
): Promise<AdmitResult> {
  const scopes = p.key && Object.values(p.key.limits).some((v) => v !== null && v !== undefined) ? [p.tenant, p.key] : [p.tenant];
  const day = utcDay(p.now);
  const ks = scopes.flatMap((s) => scopeKeys(s, day));
  ks.push(keys.reservations(p.tenant.tenantId), keys.reservationExpiry(p.tenant.tenantId));
  const reservation = JSON.stringify({ reserved: p.reserveTokens, day, key_id: p.key?.keyId ?? null, at: p.now });
  const args: (string | number)[] = [p.now, p.rid, p.reserveTokens, p.leaseMs ?? DEFAULT_LEASE_MS, DAY_TTL_S, reservation, scopes.length];
  for (const s of scopes) {
    args.push(lim(s.limits.requests_per_minute), lim(s.limits.tokens_per_minute), lim(s.limits.max_concurrent_requests), lim(s.limits.tokens_per_day));
  }
  const r = await runScript<[number, string, number, number, number, number, number, number, number]>(redis, "admit", ks, args);
  const unl = (limit: number, v: number) => (limit < 0 ? null : v);
  return {
    ok: r[0] === 1,
    reason: r[1] as AdmitResult["reason"],
    retryAfterMs: r[2],
    requests: { limit: unl(r[3], r[3]), remaining: unl(r[3], r[4]), resetMs: r[5] },
    tokens: { limit: unl(r[6], r[6]), remaining: unl(r[6], r[7]), resetMs: r[8] },
  };
}

export interface SettleInput {
  rid: string;
  tenantId: string;
  keyId: string | null;
  /** whether the key scope was charged at admission (the key had limits of its own) */
  keyScoped: boolean;
  admittedAt: number;
  usage: { prompt_tokens: number; completion_tokens: number; cached_tokens: number };
  now: number;
  /** false for a reservation released before the request was queued (it does not count as a request) */
  countRequest?: boolean;
}

/** Settles a request to its real usage, once (idempotent). Returns true if this call settled it. */
export async function settle(redis: Redis, s: SettleInput): Promise<boolean> {
  const day = utcDay(s.admittedAt);
  const scopes: Scope[] = [{ tenantId: s.tenantId, keyId: null, limits: {} }];
  if (s.keyScoped && s.keyId) scopes.push({ tenantId: s.tenantId, keyId: s.keyId, limits: {} });
  const ks = scopes.flatMap((sc) => scopeKeys(sc, day));
  ks.push(keys.reservations(s.tenantId), keys.reservationExpiry(s.tenantId), keys.usage(s.tenantId, utcDay(s.now)));
  const charged = s.usage.prompt_tokens + s.usage.completion_tokens;
  const r = await runScript<number>(redis, "settle", ks, [
    s.rid,
    charged,
    scopes.length,
    s.usage.prompt_tokens,
    s.usage.completion_tokens,
    s.usage.cached_tokens,
    USAGE_TTL_S,
    s.countRequest === false ? 0 : 1,
  ]);
  return r === 1;
}
