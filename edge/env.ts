// The edge's environment: one schema for both entries (entry-node.ts reads
// process.env, entry-worker.ts the Worker's vars and secrets), so the same
// variable means the same thing on Node and on workerd. Defaults come from
// EdgeConfigSchema, the single source of the edge's tunables.
import { z } from "zod";
import { applyAliases, describeEnvError, envBool, envHostPorts, envInt, envPort, envVar, LOG_LEVELS } from "../contract/env.js";
import { DEFAULT_TENANT_LABELS } from "../contract/metrics.js";
import type { Result } from "../contract/result.js";
import { EdgeConfigSchema, type EdgeConfigInput } from "./config.js";

const D = EdgeConfigSchema.parse({});
const NODE_REDIS_URL = "redis://127.0.0.1:6379";

export const edgeEnvSchema = z.object({
  REDIS_URL: envVar(
    z
      .string()
      .url()
      .refine((u) => /^rediss?:\/\//.test(u), "must start with redis:// or rediss://")
      .optional(),
  ).describe(`Redis to queue into (rediss:// for TLS). Node: default ${NODE_REDIS_URL}; Workers: required unless REDIS_CLUSTER_NODES is set.`),
  REDIS_CLUSTER_NODES: envVar(envHostPorts().optional()).describe(
    "Comma-separated host:port seeds of a Redis Cluster (used instead of REDIS_URL). Workers: each request reads the slot map from a seed (one more round trip).",
  ),
  REDIS_PASSWORD: envVar(z.string().optional()).describe("Overrides a password in REDIS_URL, or every cluster node's password (on Workers: a secret)."),
  ADMIN_TOKEN: envVar(z.string().min(16, "must be at least 16 characters").optional()).describe(
    "Bearer token of the admin API (/admin/v1), ≥ 16 characters; unset = the admin API answers 404.",
  ),
  EDGE_QUOTAS: envBool().default(true).describe("off = no quota admission (benchmark baseline)."),
  EDGE_KEEPALIVE_MS: envVar(envInt({ min: 1 }).default(D.keepaliveMs)).describe(
    "SSE `: keepalive` interval while nothing else is written; also how soon workerd notices a dead client.",
  ),
  EDGE_QUEUE_DEADLINE_MS: envVar(envInt({ min: 1 }).default(D.queueDeadlineMs)).describe(
    "How long a request may wait in the queue before the client gets 503.",
  ),
  EDGE_MODEL_CACHE_MS: envVar(envInt({ min: 0 }).default(D.modelCacheMs)).describe("How long the list of served models is cached per process/isolate (up to 10 times that, a request finds its model in the old list while it is read again; a model it lacks is read at once)."),
  EDGE_TENANT_CACHE_MS: envVar(envInt({ min: 0 }).default(D.tenantCacheMs)).describe(
    "How long a tenant record (limits, priority) is cached per process/isolate (up to 10 times that, one request answers from the old record while it is read again); a key's record is kept only under admit.lua's key guard, which refuses a changed or revoked key at once.",
  ),
  EDGE_MAX_BODY_BYTES: envVar(envInt({ min: 1 }).default(D.maxBodyBytes)).describe("Request bodies above this are refused with 413."),
  EDGE_MAX_QUEUED: envVar(envInt({ min: 0 }).default(D.defaultMaxQueued)).describe(
    "Per-tenant queue cap when the tenant has no max_queued_requests (0 = unlimited).",
  ),
  EDGE_DEFAULT_MAX_TOKENS: envVar(envInt({ min: 1 }).default(D.defaultReserveOutputTokens)).describe(
    "max_tokens applied (and reserved for quotas and the fair queue) when the client gives none.",
  ),
  EDGE_CANCEL_GRACE_MS: envVar(envInt({ min: 0 }).default(D.cancelGraceMs)).describe(
    "After a client disconnects, wait this long before cancelling (a resume meanwhile keeps the request); 0 = at once.",
  ),
  EDGE_RESUME_GRACE_MS: envVar(envInt({ min: 0 }).default(D.resumeGraceMs)).describe(
    "How long a request keeps generating after its connection dropped when the client sent x-resumable: true, or a draining edge ended it.",
  ),
  EDGE_RETRY_AFTER_S: envVar(envInt({ min: 1 }).default(D.retryAfterS)).describe("Retry-After (s) on 503 queue timeouts and 429 queue_full."),
  EDGE_RESPONSE_STORE_TTL_S: envVar(envInt({ min: 0 }).default(D.responseStoreTtlS)).describe(
    "How long a stored Responses API response (store: true) is kept, in seconds (default 30 days); 0 = never store.",
  ),
  EDGE_RESPONSE_STORE_MAX_BYTES: envVar(envInt({ min: 0 }).default(D.responseStoreMaxBytes)).describe(
    "Bytes of stored responses a tenant may keep when its limits set no max_stored_response_bytes.",
  ),
  EDGE_PORT: envVar(envPort().default(8080)).describe("Node only: the public API port."),
  EDGE_HOST: envVar(z.string().default("127.0.0.1")).describe("Node only: the interface the API listens on (loopback unless told otherwise)."),
  EDGE_PROCESSES: envVar(z.union([z.literal("auto"), envInt({ min: 1 })]).default(1)).describe(
    "Node only: edge processes sharing the port (node:cluster; auto = one per core); /metrics aggregates them.",
  ),
  EDGE_DRAIN_MS: envVar(envInt({ min: 0 }).default(25_000)).describe(
    "Node only: on SIGTERM, how long open responses may run before the edge ends them (their clients resume elsewhere).",
  ),
  EDGE_BODY_TIMEOUT_MS: envVar(envInt({ min: 1 }).default(30_000)).describe(
    "Node only: a request's headers and body must arrive within this, or the edge answers 408.",
  ),
  EDGE_BODY_THREADS: envVar(z.union([z.literal("auto"), envInt({ min: 0 })]).default("auto")).describe(
    "Node only: threads that check large request bodies off the event loop (parse, validate, bound the prompt by the context); auto = cores - 1, or 1 per process with EDGE_PROCESSES > 1; 0 = off.",
  ),
  EDGE_BODY_THREAD_BYTES: envVar(envInt({ min: 1 }).default(256 * 1024)).describe("Node only: bodies of at least this many bytes go to those threads."),
  EDGE_METRICS_PORT: envVar(z.union([z.literal("off"), envPort()]).default(9465)).describe(
    "Node only: Prometheus GET /metrics on its own port; off disables it, 0 = any free port.",
  ),
  EDGE_METRICS_HOST: envVar(z.string().default("127.0.0.1")).describe("Node only: the interface /metrics listens on."),
  METRICS_TENANT_LABELS: envVar(envInt({ min: 0 }).default(DEFAULT_TENANT_LABELS)).describe(
    "Node only: how many tenants (first seen) get their own metrics label; later ones are `other`.",
  ),
  LOG_LEVEL: envVar(z.enum(LOG_LEVELS).default("info")).describe("Node only: pino log level."),
});
export type EdgeEnv = z.output<typeof edgeEnvSchema>;

/** The Workers entry's names before they took the EDGE_ prefix; read for one more release, with a warning. */
export const EDGE_ENV_ALIASES: Record<string, string> = {
  KEEPALIVE_MS: "EDGE_KEEPALIVE_MS",
  QUEUE_DEADLINE_MS: "EDGE_QUEUE_DEADLINE_MS",
  MODEL_CACHE_MS: "EDGE_MODEL_CACHE_MS",
  MAX_BODY_BYTES: "EDGE_MAX_BODY_BYTES",
  MAX_QUEUED: "EDGE_MAX_QUEUED",
  CANCEL_GRACE_MS: "EDGE_CANCEL_GRACE_MS",
};

export interface EdgeSettings {
  env: EdgeEnv;
  redisUrl: string;
  /** Redis Cluster seeds (host:port); set = use a Cluster, not redisUrl (Node only) */
  redisClusterNodes?: string[];
  /** what createApp takes as `config` */
  config: EdgeConfigInput;
}

/**
 * Parses the edge's variables. `runtime` only decides whether REDIS_URL has a
 * default (Node: a local Redis; a Worker has no local Redis, so it is required).
 * The error names every bad variable.
 */
export function parseEdgeEnv(
  raw: Record<string, unknown>,
  opts: { runtime: "node" | "worker"; warn?: (message: string) => void },
): Result<EdgeSettings> {
  const { env: aliased, from } = applyAliases(raw ?? {}, EDGE_ENV_ALIASES, opts.warn ?? ((m) => console.warn(`edge: ${m}`)));
  const parsed = edgeEnvSchema.safeParse(aliased);
  if (!parsed.success) return { ok: false, error: describeEnvError(parsed.error, from) };
  const env = parsed.data;
  // A Worker has no local Redis: it needs REDIS_URL or cluster seeds (redisUrl is then unused).
  const redisUrl = env.REDIS_URL ?? (opts.runtime === "node" || env.REDIS_CLUSTER_NODES ? NODE_REDIS_URL : undefined);
  if (!redisUrl) return { ok: false, error: "REDIS_URL: required (redis://host:port or rediss://host:port for TLS), or REDIS_CLUSTER_NODES" };
  return {
    ok: true,
    value: {
      env,
      redisUrl,
      ...(env.REDIS_CLUSTER_NODES ? { redisClusterNodes: env.REDIS_CLUSTER_NODES } : {}),
      config: {
        keepaliveMs: env.EDGE_KEEPALIVE_MS,
        queueDeadlineMs: env.EDGE_QUEUE_DEADLINE_MS,
        modelCacheMs: env.EDGE_MODEL_CACHE_MS,
        tenantCacheMs: env.EDGE_TENANT_CACHE_MS,
        maxBodyBytes: env.EDGE_MAX_BODY_BYTES,
        defaultMaxQueued: env.EDGE_MAX_QUEUED,
        defaultReserveOutputTokens: env.EDGE_DEFAULT_MAX_TOKENS,
        cancelGraceMs: env.EDGE_CANCEL_GRACE_MS,
        resumeGraceMs: env.EDGE_RESUME_GRACE_MS,
        retryAfterS: env.EDGE_RETRY_AFTER_S,
        responseStoreTtlS: env.EDGE_RESPONSE_STORE_TTL_S,
        responseStoreMaxBytes: env.EDGE_RESPONSE_STORE_MAX_BYTES,
        adminToken: env.ADMIN_TOKEN,
      },
    },
  };
}
