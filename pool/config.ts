// Pool configuration, parsed once at the entry from the environment (pool/env.ts)
// or given directly to startPool by tests. Invalid config fails loudly with every problem listed.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { DEFAULT_ROUTING, POLICIES } from "./routing/policies.js";
import { DEFAULT_BREAKER } from "./workers/circuit-breaker.js";
import { DEFAULT_HUNG } from "./workers/watchdog.js";

const int = (def: number) => z.coerce.number().int().positive().default(def);

export const PoolConfigSchema = z.object({
  redisUrl: z.string().url(),
  /** Redis Cluster seeds (host:port); set = a Cluster is used and redisUrl is ignored. */
  redisClusterNodes: z.array(z.string().min(1)).optional(),
  /** Overrides a password in redisUrl; on a cluster, every node's password. */
  redisPassword: z.string().optional(),
  poolId: z.string().min(1).default(() => `pool-${randomUUID().slice(0, 8)}`),
  /**
   * gRPC addresses of the TokenSpeed workers ("host:port" or "grpc://host:port"). May be
   * empty when workers register themselves at run time (workerDiscoveryMs, workers/discovery.ts).
   */
  workers: z.array(z.string().min(1)).default([]),
  /** Model to serve; unset = the workers' served_model_name (GetModelInfo). */
  model: z.string().min(1).optional(),
  /** A claimed job's lease; extended every leaseMs/3, reaped when it lapses. */
  leaseMs: int(10_000),
  /** Registry heartbeat period (the entry lives 3x this). */
  heartbeatMs: int(2_000),
  /** How often this pool looks for expired leases of any pool. */
  reapIntervalMs: int(1_000),
  /** Max requests this pool runs at once; it stops claiming at this many. */
  maxInFlight: int(256),
  /** Max jobs taken per claim call. */
  claimBatch: int(16),
  /**
   * Idle poll period when the queue is empty. Every enqueue wakes the model's pools
   * (sharded pub/sub), so this is only the safety net for a missed wake-up (a
   * subscriber reconnecting); polling every 20 ms cost an idle pool ~50 claim
   * scripts a second, most of its idle CPU and Redis's.
   */
  idlePollMs: int(500),
  /**
   * Coalescing: a request's next write waits until the previous one finished (natural
   * batching). minWriteIntervalMs > 0 additionally spaces a request's writes out.
   */
  coalesce: z
    .object({
      minWriteIntervalMs: z.coerce.number().int().nonnegative().default(0),
    })
    .default({ minWriteIntervalMs: 0 }),
  /** Generate attempts per request (first try + retries/migrations on other workers). */
  maxAttempts: int(3),
  /** Worker readiness probe period. */
  healthIntervalMs: int(5_000),
  /** How long startPool waits for the workers to answer GetModelInfo. */
  startupTimeoutMs: int(30_000),
  /** Worker selection (pool/routing/policies.ts): kv_aware | load_aware | session | round_robin | least_in_flight. */
  routingPolicy: z.enum(POLICIES).default("kv_aware"),
  routing: z
    .object({
      /** kv_aware: cost = uncached prompt tokens + alpha x load (load in prefill-token equivalents). */
      kvAlpha: z.coerce.number().nonnegative().default(DEFAULT_ROUTING.kvAlpha),
      decodeTokenCost: z.coerce.number().nonnegative().default(DEFAULT_ROUTING.decodeTokenCost),
      balanceAbsThreshold: z.coerce.number().nonnegative().default(DEFAULT_ROUTING.balanceAbsThreshold),
      balanceRelThreshold: z.coerce.number().positive().default(DEFAULT_ROUTING.balanceRelThreshold),
      /** Subscribe to workers' KV events (kv_aware); false = approximate index only. */
      kvEvents: z.boolean().default(true),
      blockSize: int(DEFAULT_ROUTING.blockSize),
    })
    .default({
      kvAlpha: DEFAULT_ROUTING.kvAlpha,
      decodeTokenCost: DEFAULT_ROUTING.decodeTokenCost,
      balanceAbsThreshold: DEFAULT_ROUTING.balanceAbsThreshold,
      balanceRelThreshold: DEFAULT_ROUTING.balanceRelThreshold,
      kvEvents: true,
      blockSize: DEFAULT_ROUTING.blockSize,
    }),
  /** Per-worker circuit breaker (wire §5.2). */
  breaker: z
    .object({
      failureThreshold: int(DEFAULT_BREAKER.failureThreshold),
      cooldownMs: int(DEFAULT_BREAKER.cooldownMs),
      successThreshold: int(DEFAULT_BREAKER.successThreshold),
    })
    .default(DEFAULT_BREAKER),
  /** Hung-worker watchdog (workers/registry.ts HungOptions). */
  hung: z
    .object({
      minSilenceMs: int(DEFAULT_HUNG.minSilenceMs),
      gapFactor: z.coerce.number().positive().default(DEFAULT_HUNG.gapFactor),
      prefillTokensPerS: int(DEFAULT_HUNG.prefillTokensPerS),
      confirmMs: int(DEFAULT_HUNG.confirmMs),
      tickMs: int(DEFAULT_HUNG.tickMs),
    })
    .default(DEFAULT_HUNG),
  /** Period of the Redis worker-registry scan (workers joining/leaving/draining at run time); 0 = off. */
  workerDiscoveryMs: z.coerce.number().int().nonnegative().default(1_000),
  /** WORKERS_DNS=host:port: workers are the name's A/AAAA records, re-resolved every workersDnsIntervalMs (workers/dns-discovery.ts). */
  workersDns: z.string().regex(/^[^\s:/]+:\d{1,5}$/, "WORKERS_DNS must be host:port").optional(),
  workersDnsIntervalMs: int(5_000),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /**
   * Internal HTTP port: GET /metrics, /status (live page), /status.json, /healthz.
   * Unset = no HTTP server (tests); 0 = any free port (startPool reports it). CLI default 9464.
   */
  httpPort: z.coerce.number().int().min(0).max(65535).optional(),
  /** loopback unless told otherwise; beyond it, /status needs ADMIN_TOKEN */
  httpHost: z.string().min(1).default("127.0.0.1"),
  /** When set, /status and /status.json require it (Bearer header or ?token=). */
  adminToken: z.string().min(16, "ADMIN_TOKEN must be at least 16 characters").optional(),
  /** How many tenants (first seen) get their own metrics label; later ones are "other". */
  metricsTenantLabels: z.coerce.number().int().nonnegative().default(20),
  /** GetLoads poll period for the metrics and the status page (only while httpPort is served). */
  loadsIntervalMs: int(1_000),
  /** Tokenization threads per model (template + encode off the event loop); unset = cores - 1 (min 1); 0 = on the main thread. */
  tokenizerThreads: z.coerce.number().int().min(0).max(64).optional(),
  /** Per model: the tool-call/reasoning parser ("qwen3", "kimi_k2", "none"), overriding the one chosen from the workers' model_type. */
  toolParsers: z.record(z.string(), z.enum(["qwen3", "kimi_k2", "none"])).default({}),
});

export type PoolConfig = z.infer<typeof PoolConfigSchema>;
export type PoolConfigInput = z.input<typeof PoolConfigSchema>;

/** Parses input or throws one Error listing every invalid field. */
export function parseConfig(input: PoolConfigInput): PoolConfig {
  const r = PoolConfigSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`invalid pool config:\n${lines.join("\n")}`);
  }
  return r.data;
}
