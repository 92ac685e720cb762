// Admission decides whether a request may be queued at all (per-tenant and
// per-key quotas) and returns the x-ratelimit-* headers for the response.
// Settlement to the real usage is the pool's job (it always sees a request's
// end, even when the client is gone); the edge only releases a reservation
// for a request that never reached the queue.
import type { ChainableCommander, Redis } from "ioredis";
import type { ApiKeyRecord } from "../contract/queue/messages.js";
import type { KeyGuardCheck } from "../contract/queue/scripts/admit.js";
import type { Tenant } from "./tenants.js";

export interface AdmissionRequest {
  requestId: string;
  tenant: Tenant;
  key: ApiKeyRecord;
  model: string;
  /** prompt estimate + max output, as written into Job.reserved_tokens */
  reservedTokens: number;
  /** ms since epoch */
  now: number;
  /** `key` was read earlier (edge/middleware/auth.ts): a pipelined admission checks it is still the stored record */
  keyGuard?: KeyGuardCheck;
}

export type AdmissionDecision =
  | {
      ok: true;
      /** x-ratelimit-* headers to send on the response (streams included). */
      headers: Record<string, string>;
      /** whether the key's own quota scope was charged (the pool settles it too) */
      keyScoped: boolean;
    }
  | {
      ok: false;
      /** rate_limit_exceeded (429) or insufficient_quota (429, daily budget spent) */
      code: "rate_limit_exceeded" | "insufficient_quota";
      /** Seconds until the client may retry (Retry-After). */
      retryAfterS: number;
      message: string;
      headers: Record<string, string>;
    };

/**
 * An admission sent as the first step of the enqueue's pipeline (a single Redis), so
 * admitting and queueing a request take one round trip: the enqueue's gate queues it
 * only if this step recorded its rid in `reservations` (contract/queue/lua/enqueue.lua).
 */
export interface PipelinedAdmission {
  /** whether the key's own quota scope is charged, known before the reply (the Job carries it) */
  keyScoped: boolean;
  /** the HASH this step records an admitted rid in */
  reservations: string;
  /** queues this step on the pipeline */
  queue(pipeline: ChainableCommander): void;
  /** the decision, from this step's reply */
  decision(reply: unknown): AdmissionDecision | StaleKey;
}

/** A guarded admission found the API key's record changed or gone: nothing was admitted or queued. */
export interface StaleKey {
  ok: false;
  code: "stale_key";
}

export interface Admission {
  /** Called once before enqueueing. */
  admit(redis: Redis, req: AdmissionRequest): Promise<AdmissionDecision>;
  /** Optional (a single Redis only): admit() as the first step of the enqueue's pipeline. */
  pipelined?(redis: Redis, req: AdmissionRequest): PipelinedAdmission;
  /** Gives back the reservation of an admitted request that could not be queued. */
  release(redis: Redis, req: AdmissionRequest, keyScoped: boolean): Promise<void>;
}

/** Admits everything (no quotas: tests of other parts, and deployments without tenants' limits). */
export const openAdmission: Admission = {
  async admit() {
    return { ok: true, headers: {}, keyScoped: false };
  },
  async release() {},
};
