// The edge's tunables, shared by every runtime. Each entry parses its own
// environment into this shape (and fails loudly on a bad value); createApp
// fills in the defaults for whatever an entry or a test leaves out.
import { z } from "zod";

export const EdgeConfigSchema = z.object({
  /** SSE comment interval while nothing else is written, so proxies and workerd notice a dead client. */
  keepaliveMs: z.number().int().positive().default(15_000),
  /** How long a request may wait in the queue before the client gets 503 (Job.deadline_at). */
  queueDeadlineMs: z.number().int().positive().default(60_000),
  /** How long the list of served models (from the pool registry) is cached per process/isolate. */
  modelCacheMs: z.number().int().nonnegative().default(2_000),
  /** How long a tenant record (limits, priority) is cached per process/isolate; a key's record only under admit.lua's key guard. */
  tenantCacheMs: z.number().int().nonnegative().default(1_000),
  /** Request bodies above this are refused with 413. */
  maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
  /** Per-tenant queue cap used when the tenant record has none (0 = unlimited). */
  defaultMaxQueued: z.number().int().nonnegative().default(0),
  /** max_tokens applied (and reserved for quotas and the fair queue) when the client gives none. */
  defaultReserveOutputTokens: z.number().int().positive().default(1024),
  /**
   * After a client disconnects mid-request, wait this long before cancelling,
   * and skip the cancel if the client resumed (Last-Event-ID) meanwhile. 0 =
   * cancel at once (frees the GPU soonest; a resume then sees the "cancelled" end).
   */
  cancelGraceMs: z.number().int().nonnegative().default(0),
  /**
   * How long a request keeps generating after its connection dropped when the
   * client said it will resume (x-resumable: true), or when a draining edge
   * ended the response; a resume within it continues the same request.
   */
  resumeGraceMs: z.number().int().nonnegative().default(30_000),
  /** Bearer token of the admin API (/admin/v1); unset = the admin API answers 404. */
  adminToken: z.string().min(16).optional(),
  /** How long a stored Responses API response (store: true) is kept, in seconds; 0 = never store. */
  responseStoreTtlS: z.number().int().nonnegative().default(30 * 24 * 3600),
  /** Bytes of stored responses a tenant may keep when its limits set no max_stored_response_bytes. */
  responseStoreMaxBytes: z.number().int().nonnegative().default(100 * 1024 * 1024),
  /** Retry-After (s) on 503 queue timeouts and 429 queue_full. */
  retryAfterS: z.number().int().positive().default(2),
});
export type EdgeConfig = z.infer<typeof EdgeConfigSchema>;
export type EdgeConfigInput = z.input<typeof EdgeConfigSchema>;

/** Pino-compatible subset, so any structured logger fits (and tests can pass a silent one). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
