// Pool configuration, parsed once at the entry from the environment (or given
// directly to startPool by tests). Invalid config fails loudly with every problem listed.
import { randomUUID } from "node:crypto";
import { z } from "zod";

const int = (def: number) => z.coerce.number().int().positive().default(def);

export const PoolConfigSchema = z.object({
  redisUrl: z.string().url(),
  poolId: z.string().min(1).default(() => `pool-${randomUUID().slice(0, 8)}`),
  /** gRPC addresses of the TokenSpeed workers ("host:port" or "grpc://host:port"). */
  workers: z.array(z.string().min(1)).min(1),
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
  /** Idle poll period when the queue is empty (a wake-up message cuts the wait short). */
  idlePollMs: int(20),
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
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
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

/**
 * Env vars: REDIS_URL, POOL_ID, WORKERS (comma-separated), MODEL, LEASE_MS, HEARTBEAT_MS,
 * REAP_INTERVAL_MS, MAX_IN_FLIGHT, CLAIM_BATCH, IDLE_POLL_MS, COALESCE_MIN_INTERVAL_MS,
 * MAX_ATTEMPTS, HEALTH_INTERVAL_MS, STARTUP_TIMEOUT_MS, LOG_LEVEL.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): PoolConfig {
  const v = (k: string) => (env[k] === undefined || env[k] === "" ? undefined : env[k]);
  return parseConfig({
    redisUrl: v("REDIS_URL") as string,
    poolId: v("POOL_ID"),
    workers: (v("WORKERS") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    model: v("MODEL"),
    leaseMs: v("LEASE_MS") as unknown as number,
    heartbeatMs: v("HEARTBEAT_MS") as unknown as number,
    reapIntervalMs: v("REAP_INTERVAL_MS") as unknown as number,
    maxInFlight: v("MAX_IN_FLIGHT") as unknown as number,
    claimBatch: v("CLAIM_BATCH") as unknown as number,
    idlePollMs: v("IDLE_POLL_MS") as unknown as number,
    coalesce: { minWriteIntervalMs: v("COALESCE_MIN_INTERVAL_MS") as unknown as number },
    maxAttempts: v("MAX_ATTEMPTS") as unknown as number,
    healthIntervalMs: v("HEALTH_INTERVAL_MS") as unknown as number,
    startupTimeoutMs: v("STARTUP_TIMEOUT_MS") as unknown as number,
    logLevel: v("LOG_LEVEL") as PoolConfig["logLevel"] | undefined,
  });
}
