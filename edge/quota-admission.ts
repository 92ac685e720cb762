// Admission backed by the atomic admit.lua (contract/queue/tenancy.ts): every
// request is checked against its tenant's limits and its key's own limits in
// one Redis step, and the answer carries OpenAI's x-ratelimit-* headers.
import type { Redis } from "ioredis";
import { admit, settle, type AdmitResult } from "../contract/queue/tenancy.js";
import { admitOn, admitResult, type AdmitParams } from "../contract/queue/scripts/admit.js";
import { keys } from "../contract/queue/keys.js";
import type { Admission, AdmissionDecision, AdmissionRequest, PipelinedAdmission } from "./admission.js";

/** OpenAI's duration format for reset headers: "1s", "6m0s", "20ms". */
export function formatReset(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${s % 60}s`;
}

function headers(r: AdmitResult): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [kind, v] of [
    ["requests", r.requests],
    ["tokens", r.tokens],
  ] as const) {
    if (v.limit === null) continue;
    h[`x-ratelimit-limit-${kind}`] = String(v.limit);
    h[`x-ratelimit-remaining-${kind}`] = String(v.remaining);
    h[`x-ratelimit-reset-${kind}`] = formatReset(v.resetMs);
  }
  return h;
}

const REFUSALS: Record<Exclude<AdmitResult["reason"], "" | "stale_key">, (r: AdmitResult) => string> = {
  requests: (r) => `Rate limit reached: ${r.requests.limit} requests per minute. Retry after ${formatReset(r.retryAfterMs)}.`,
  tokens: (r) => `Rate limit reached: ${r.tokens.limit} tokens per minute. Retry after ${formatReset(r.retryAfterMs)}.`,
  too_large: (r) => `Request too large: it may use more tokens than the limit of ${r.tokens.limit} per minute. Lower max_tokens or the prompt.`,
  concurrency: () => "Too many concurrent requests for this API key or tenant. Retry when one finishes.",
  daily_tokens: () => "You exceeded your daily token budget. It resets at 00:00 UTC.",
};

function keyHasLimits(req: AdmissionRequest): boolean {
  return Object.values(req.key.limits ?? {}).some((v) => v !== null && v !== undefined);
}

function admitParams(req: AdmissionRequest, keyScoped: boolean, leaseMs: number | undefined): AdmitParams {
  return {
    rid: req.requestId,
    tenant: { tenantId: req.tenant.id, keyId: null, limits: req.tenant.limits },
    key: keyScoped ? { tenantId: req.tenant.id, keyId: req.key.key_id, limits: req.key.limits } : null,
    reserveTokens: req.reservedTokens,
    now: req.now,
    leaseMs,
    ...(req.keyGuard ? { keyGuard: req.keyGuard } : {}),
  };
}

function decisionOf(r: AdmitResult, req: AdmissionRequest, keyScoped: boolean): AdmissionDecision {
  if (r.ok) return { ok: true, headers: headers(r), keyScoped };
  const reason = r.reason as Exclude<AdmitResult["reason"], "" | "stale_key">;
  const untilMidnight = 86_400_000 - (req.now % 86_400_000);
  const retryMs = reason === "daily_tokens" ? untilMidnight : reason === "too_large" ? 60_000 : r.retryAfterMs;
  return {
    ok: false,
    code: reason === "daily_tokens" ? "insufficient_quota" : "rate_limit_exceeded",
    retryAfterS: Math.max(1, Math.ceil(retryMs / 1000)),
    message: REFUSALS[reason](r),
    headers: headers(r),
  };
}

export function quotaAdmission(opts: { leaseMs?: number } = {}): Admission {
  return {
    async admit(redis: Redis, req: AdmissionRequest): Promise<AdmissionDecision> {
      const keyScoped = keyHasLimits(req);
      // a guard only rides in the enqueue's pipeline (submit reads the record itself otherwise)
      return decisionOf(await admit(redis, admitParams({ ...req, keyGuard: undefined }, keyScoped, opts.leaseMs)), req, keyScoped);
    },
    pipelined(redis: Redis, req: AdmissionRequest): PipelinedAdmission {
      const keyScoped = keyHasLimits(req);
      return {
        keyScoped,
        reservations: keys.reservations(req.tenant.id),
        queue: (pipeline) => admitOn(redis, pipeline, admitParams(req, keyScoped, opts.leaseMs)),
        decision: (reply) => {
          const r = admitResult(reply);
          return r.reason === "stale_key" ? { ok: false, code: "stale_key" } : decisionOf(r, req, keyScoped);
        },
      };
    },
    async release(redis: Redis, req: AdmissionRequest, keyScoped: boolean): Promise<void> {
      await settle(redis, {
        rid: req.requestId,
        tenantId: req.tenant.id,
        keyId: req.key.key_id,
        keyScoped,
        admittedAt: req.now,
        usage: { prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0 },
        now: req.now,
        countRequest: false,
      });
    },
  };
}
