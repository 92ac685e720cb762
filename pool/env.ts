// The pool's environment: one zod schema (coercion, not casts), mapped onto
// PoolConfig. Defaults come from PoolConfigSchema, the single source of the
// pool's tunables, so an unset variable and an omitted config field agree.
import { z } from "zod";
import { describeEnvError, envBool, envHostPorts, envInt, envList, envMap, envNumber, envPort, envVar, LOG_LEVELS } from "../contract/env.js";
import { parseConfig, PoolConfigSchema, type PoolConfig } from "./config.js";
import { POLICIES } from "./routing/policies.js";

const D = PoolConfigSchema.parse({ redisUrl: "redis://defaults" });
const ms = (def: number, what: string) => envVar(envInt({ min: 1 }).default(def)).describe(what);
const TOOL_PARSERS = ["qwen3", "kimi_k2", "none"] as const;

export const poolEnvSchema = z.object({
  REDIS_URL: envVar(z.string().url().optional()).describe("Redis the edges queue into (required unless REDIS_CLUSTER_NODES is set)."),
  REDIS_CLUSTER_NODES: envVar(envHostPorts().optional()).describe("Comma-separated host:port seeds of a Redis Cluster (used instead of REDIS_URL)."),
  REDIS_PASSWORD: envVar(z.string().optional()).describe("Overrides a password in REDIS_URL, or every cluster node's password."),
  POOL_ID: envVar(z.string().optional()).describe("This pool's id in the registry and in lease owners; unset = pool-<8 random hex>."),
  WORKERS: envVar(envList().default([])).describe(
    "Comma-separated gRPC addresses of TokenSpeed workers (host:port); may be empty when workers register at run time.",
  ),
  MODEL: envVar(z.string().optional()).describe("Model to serve; unset = the workers' served_model_name."),
  LEASE_MS: ms(D.leaseMs, "A claimed job's lease; extended every LEASE_MS/3, reaped when it lapses."),
  HEARTBEAT_MS: ms(D.heartbeatMs, "Pool registry heartbeat period (the entry lives 3x this)."),
  REAP_INTERVAL_MS: ms(D.reapIntervalMs, "How often this pool looks for expired leases of any pool."),
  MAX_IN_FLIGHT: ms(D.maxInFlight, "Max requests this pool runs at once; it stops claiming at this many."),
  CLAIM_BATCH: ms(D.claimBatch, "Max jobs taken per claim call."),
  IDLE_POLL_MS: ms(D.idlePollMs, "Idle poll period when the queue is empty (a wake-up message cuts it short)."),
  COALESCE_MIN_INTERVAL_MS: envVar(envInt({ min: 0 }).default(D.coalesce.minWriteIntervalMs)).describe(
    "Extra spacing between one request's writes to its response stream (0 = natural batching only).",
  ),
  MAX_ATTEMPTS: ms(D.maxAttempts, "Generate attempts per request (first try + retries/migrations)."),
  HEALTH_INTERVAL_MS: ms(D.healthIntervalMs, "Worker readiness probe period."),
  STARTUP_TIMEOUT_MS: ms(D.startupTimeoutMs, "How long the pool waits at start for the workers to answer GetModelInfo."),
  ROUTING_POLICY: envVar(z.enum(POLICIES).default(D.routingPolicy)).describe(`Worker selection: ${POLICIES.join(" | ")}.`),
  KV_ALPHA: envVar(envNumber({ min: 0 }).default(D.routing.kvAlpha)).describe(
    "kv_aware: cost = uncached prompt tokens + KV_ALPHA x load (prefill-token equivalents).",
  ),
  ROUTING_DECODE_TOKEN_COST: envVar(envNumber({ min: 0 }).default(D.routing.decodeTokenCost)).describe(
    "Load of one running decode, in prefill-token equivalents.",
  ),
  BALANCE_ABS_THRESHOLD: envVar(envNumber({ min: 0 }).default(D.routing.balanceAbsThreshold)).describe(
    "kv_aware: switch to least load when the load gap exceeds this (absolute)…",
  ),
  BALANCE_REL_THRESHOLD: envVar(envNumber({ positive: true }).default(D.routing.balanceRelThreshold)).describe(
    "…and this ratio (relative).",
  ),
  KV_EVENTS: envVar(envBool().default(D.routing.kvEvents)).describe("Subscribe to workers' KV events (kv_aware); off = approximate index only."),
  KV_BLOCK_SIZE: envVar(envInt({ min: 1 }).default(D.routing.blockSize)).describe("Tokens per KV block when hashing prompts (the workers' page size)."),
  CB_FAILURES: envVar(envInt({ min: 1 }).default(D.breaker.failureThreshold)).describe("Circuit breaker: consecutive failures that open it."),
  CB_COOLDOWN_MS: ms(D.breaker.cooldownMs, "Circuit breaker: how long it stays open before a trial call."),
  CB_SUCCESSES: envVar(envInt({ min: 1 }).default(D.breaker.successThreshold)).describe("Circuit breaker: successes (half-open) that close it."),
  HUNG_MIN_SILENCE_MS: ms(D.hung.minSilenceMs, "Watchdog: shortest silence on a worker's open calls that counts as suspect."),
  HUNG_GAP_FACTOR: envVar(envNumber({ positive: true }).default(D.hung.gapFactor)).describe(
    "Watchdog: suspect after this many times the worker's typical inter-frame gap.",
  ),
  HUNG_PREFILL_TOKENS_PER_S: envVar(envInt({ min: 1 }).default(D.hung.prefillTokensPerS)).describe(
    "Watchdog: prefill speed assumed before a call's first frame (long prompts may be silent longer).",
  ),
  HUNG_CONFIRM_MS: ms(D.hung.confirmMs, "Watchdog: deadline of the deep HealthCheck that confirms a hang."),
  HUNG_TICK_MS: ms(D.hung.tickMs, "Watchdog: check period."),
  WORKER_DISCOVERY_MS: envVar(envInt({ min: 0 }).default(D.workerDiscoveryMs)).describe(
    "Period of the Redis worker-registry scan (workers joining, leaving, draining at run time); 0 = off.",
  ),
  WORKERS_DNS: envVar(z.string().optional()).describe(
    "host:port whose A/AAAA records are the workers (a Kubernetes headless Service), re-resolved periodically; unset = off.",
  ),
  WORKERS_DNS_INTERVAL_MS: ms(D.workersDnsIntervalMs, "How often WORKERS_DNS is re-resolved (workers join and drain as records change)."),
  LOADS_INTERVAL_MS: ms(D.loadsIntervalMs, "GetLoads poll period (routing, metrics, status page)."),
  TOKENIZER_THREADS: envVar(envInt({ min: 0, max: 64 }).optional()).describe(
    "Prompt templating/tokenization threads per model; unset = cores - 1 (at least 1), 0 = on the main thread.",
  ),
  TOOL_PARSERS: envVar(envMap().pipe(z.record(z.string(), z.enum(TOOL_PARSERS))).default({})).describe(
    `Per model, the tool-call/reasoning parser overriding the one chosen from model_type: model=parser,… (${TOOL_PARSERS.join(", ")}).`,
  ),
  POOL_HTTP_PORT: envVar(z.union([z.literal("off"), envPort()]).default(9464)).describe(
    "Internal HTTP port: /metrics, /status, /status.json, /healthz; off = none, 0 = any free port.",
  ),
  POOL_HTTP_HOST: envVar(z.string().default(D.httpHost)).describe(
    "The interface the internal HTTP port listens on (loopback by default; beyond it /status needs ADMIN_TOKEN).",
  ),
  ADMIN_TOKEN: envVar(z.string().min(16, "must be at least 16 characters").optional()).describe(
    "When set, /status and /status.json require it (Bearer or ?token=); beyond loopback they stay closed without it; ≥ 16 characters.",
  ),
  METRICS_TENANT_LABELS: envVar(envInt({ min: 0 }).default(D.metricsTenantLabels)).describe(
    "How many tenants (first seen) get their own metrics label; later ones are `other`.",
  ),
  LOG_LEVEL: envVar(z.enum(LOG_LEVELS).default(D.logLevel)).describe("pino log level."),
});
export type PoolEnv = z.output<typeof poolEnvSchema>;

/** Parses the pool's variables into its config; throws one Error naming every bad variable. */
export function parsePoolEnv(raw: Record<string, unknown> = process.env): PoolConfig {
  const parsed = poolEnvSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`pool: bad environment: ${describeEnvError(parsed.error)}`);
  const e = parsed.data;
  if (!e.REDIS_URL && !e.REDIS_CLUSTER_NODES) throw new Error("pool: bad environment: REDIS_URL: required (or REDIS_CLUSTER_NODES for a Redis Cluster)");
  return parseConfig({
    // with a cluster, redisUrl is unused; a placeholder keeps the config's one required field simple
    redisUrl: e.REDIS_URL ?? "redis://cluster",
    redisClusterNodes: e.REDIS_CLUSTER_NODES,
    redisPassword: e.REDIS_PASSWORD,
    poolId: e.POOL_ID,
    workers: e.WORKERS,
    model: e.MODEL,
    leaseMs: e.LEASE_MS,
    heartbeatMs: e.HEARTBEAT_MS,
    reapIntervalMs: e.REAP_INTERVAL_MS,
    maxInFlight: e.MAX_IN_FLIGHT,
    claimBatch: e.CLAIM_BATCH,
    idlePollMs: e.IDLE_POLL_MS,
    coalesce: { minWriteIntervalMs: e.COALESCE_MIN_INTERVAL_MS },
    maxAttempts: e.MAX_ATTEMPTS,
    healthIntervalMs: e.HEALTH_INTERVAL_MS,
    startupTimeoutMs: e.STARTUP_TIMEOUT_MS,
    routingPolicy: e.ROUTING_POLICY,
    routing: {
      kvAlpha: e.KV_ALPHA,
      decodeTokenCost: e.ROUTING_DECODE_TOKEN_COST,
      balanceAbsThreshold: e.BALANCE_ABS_THRESHOLD,
      balanceRelThreshold: e.BALANCE_REL_THRESHOLD,
      kvEvents: e.KV_EVENTS,
      blockSize: e.KV_BLOCK_SIZE,
    },
    breaker: { failureThreshold: e.CB_FAILURES, cooldownMs: e.CB_COOLDOWN_MS, successThreshold: e.CB_SUCCESSES },
    hung: {
      minSilenceMs: e.HUNG_MIN_SILENCE_MS,
      gapFactor: e.HUNG_GAP_FACTOR,
      prefillTokensPerS: e.HUNG_PREFILL_TOKENS_PER_S,
      confirmMs: e.HUNG_CONFIRM_MS,
      tickMs: e.HUNG_TICK_MS,
    },
    workerDiscoveryMs: e.WORKER_DISCOVERY_MS,
    workersDns: e.WORKERS_DNS,
    workersDnsIntervalMs: e.WORKERS_DNS_INTERVAL_MS,
    tokenizerThreads: e.TOKENIZER_THREADS,
    logLevel: e.LOG_LEVEL,
    httpPort: e.POOL_HTTP_PORT === "off" ? undefined : e.POOL_HTTP_PORT,
    httpHost: e.POOL_HTTP_HOST,
    adminToken: e.ADMIN_TOKEN,
    metricsTenantLabels: e.METRICS_TENANT_LABELS,
    loadsIntervalMs: e.LOADS_INTERVAL_MS,
    toolParsers: e.TOOL_PARSERS,
  });
}
