// Admission decides whether a request may be queued at all (per-tenant quotas,
// token buckets) and settles the reservation once the real usage is known.
// Quotas arrive with a later issue; until then every request is admitted. The
// interface is what the routes depend on, so that work only swaps the
// implementation passed in EdgeDeps.
import type { Redis } from "ioredis";
import type { ApiKeyRecord, Usage } from "../proto/queue/messages.js";
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
}

export type AdmissionDecision =
  | {
      ok: true;
      /** x-ratelimit-* headers to send on the response (streams included). */
      headers: Record<string, string>;
    }
  | {
      ok: false;
      /** Seconds until the client may retry (Retry-After). */
      retryAfterS: number;
      message: string;
      headers: Record<string, string>;
    };

export interface Admission {
  /** Called once before enqueueing; a refusal becomes a 429 rate_limit_exceeded. */
  admit(redis: Redis, req: AdmissionRequest): Promise<AdmissionDecision>;
  /**
   * Called once when the request is finished as far as the edge can tell:
   * with the usage of a `done` event, or null (error, cancel, queue timeout,
   * refused enqueue) so the reservation can be released.
   */
  settle(redis: Redis, req: AdmissionRequest, usage: Usage | null): Promise<void>;
}

/** Admits everything and settles nothing. */
export const openAdmission: Admission = {
  async admit() {
    return { ok: true, headers: {} };
  },
  async settle() {},
};
