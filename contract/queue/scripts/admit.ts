// admit.lua (edge): check every scope that applies (tenant, then key), reserve
// tokens and take a concurrency lease, atomically; returns the header numbers.
import type { ChainableCommander, Redis } from "ioredis";
import { keys, utcDay } from "../keys.js";
import { pipelineScript, runScript } from "../lua/index.js";
import type { Limits } from "../tenancy.js";

/** Concurrency leases and reservations outlive a request by at most this long if every holder dies. */
export const DEFAULT_LEASE_MS = 15 * 60 * 1000;
const DAY_TTL_S = 2 * 24 * 3600;

export interface Scope {
  tenantId: string;
  keyId: string | null;
  limits: Limits;
}

export interface AdmitResult {
  ok: boolean;
  /** stale_key: the key guard found the API key's record changed or gone (nothing was touched) */
  reason: "" | "requests" | "tokens" | "concurrency" | "daily_tokens" | "too_large" | "stale_key";
  retryAfterMs: number;
  /** for x-ratelimit-* headers; limit null = unlimited */
  requests: { limit: number | null; remaining: number | null; resetMs: number };
  tokens: { limit: number | null; remaining: number | null; resetMs: number };
}

const lim = (x: number | null | undefined) => (x === null || x === undefined ? -1 : x);

export function scopeKeys(scope: Scope, day: string): string[] {
  const q = keys.quota(scope.tenantId, scope.keyId);
  return [q.reqWindow, q.tokWindow, q.tokAmounts, q.concurrency, q.day(day)];
}

export interface AdmitParams {
  rid: string;
  tenant: Scope;
  key: Scope | null;
  reserveTokens: number;
  now: number;
  leaseMs?: number;
  /** a single Redis only: admit only if the API key's record (`key`) is still `value` */
  keyGuard?: KeyGuardCheck;
}

/** The API-key record an admission was prepared with: its Redis key and its JSON as read. */
export interface KeyGuardCheck {
  key: string;
  value: string;
}

function call(p: AdmitParams) {
  const scopes = p.key && Object.values(p.key.limits).some((v) => v !== null && v !== undefined) ? [p.tenant, p.key] : [p.tenant];
  const day = utcDay(p.now);
  const ks = scopes.flatMap((s) => scopeKeys(s, day));
  ks.push(keys.reservations(p.tenant.tenantId), keys.reservationExpiry(p.tenant.tenantId));
  if (p.keyGuard) ks.push(p.keyGuard.key);
  const reservation = JSON.stringify({ reserved: p.reserveTokens, day, key_id: p.key?.keyId ?? null, at: p.now });
  const args: (string | number)[] = [p.now, p.rid, p.reserveTokens, p.leaseMs ?? DEFAULT_LEASE_MS, DAY_TTL_S, reservation, scopes.length];
  for (const s of scopes) {
    args.push(lim(s.limits.requests_per_minute), lim(s.limits.tokens_per_minute), lim(s.limits.max_concurrent_requests), lim(s.limits.tokens_per_day));
  }
  if (p.keyGuard) args.push(p.keyGuard.value);
  return { keys: ks, args };
}

/** Admits one request against the tenant scope and (if it has limits) the key scope, atomically. */
export async function admit(redis: Redis, p: AdmitParams): Promise<AdmitResult> {
  const c = call(p);
  return admitResult(await runScript(redis, "admit", c.keys, c.args));
}

/**
 * Queues admit.lua on a scriptPipeline(redis); read its reply with admitResult(). An
 * admitted rid is recorded in keys.reservations(tenant), the HASH an enqueue's gate
 * (scripts/enqueue.ts EnqueueGate) checks.
 */
export function admitOn(redis: Redis, pipeline: ChainableCommander, p: AdmitParams): ChainableCommander {
  const c = call(p);
  return pipelineScript(redis, pipeline, "admit", c.keys, c.args);
}

/** admit.lua's reply, read. */
export function admitResult(reply: unknown): AdmitResult {
  const r = reply as [number, string, number, number, number, number, number, number, number];
  const unl = (limit: number, v: number) => (limit < 0 ? null : v);
  return {
    ok: r[0] === 1,
    reason: r[1] as AdmitResult["reason"],
    retryAfterMs: r[2],
    requests: { limit: unl(r[3], r[3]), remaining: unl(r[3], r[4]), resetMs: r[5] },
    tokens: { limit: unl(r[6], r[6]), remaining: unl(r[6], r[7]), resetMs: r[8] },
  };
}

