// Metric names, label names and bucket boundaries shared by the edge and the
// pool: the contract with dashboards and alerts. OpenTelemetry GenAI semantic
// conventions (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/)
// where one exists, in their Prometheus form (dots -> underscores, unit
// suffix), our own `speedgate_*` for the rest. Runtime-free (the edge app may
// import it).

export const METRIC = {
  // ---- OpenTelemetry GenAI ----
  /** histogram (s): edge: request arrival -> first content chunk sent; pool: claim -> first token from a worker */
  ttft: "gen_ai_server_time_to_first_token_seconds",
  /** histogram (s): per request, (last token - first token) / (output tokens - 1) */
  timePerOutputToken: "gen_ai_server_time_per_output_token_seconds",
  /** histogram (s): edge: arrival -> last byte; pool: claim -> terminal event */
  requestDuration: "gen_ai_server_request_duration_seconds",
  /** histogram ({token}) by gen_ai_token_type = input | output, one observation per successful request */
  tokenUsage: "gen_ai_client_token_usage",

  // ---- speedgate ----
  /** counter: edge: HTTP requests by route, status, tenant, model; pool: runs by outcome */
  edgeRequests: "speedgate_edge_requests_total",
  poolRequests: "speedgate_pool_requests_total",
  /** counter: tokens by tenant, model and type = input | output | cached */
  tokens: "speedgate_tokens_total",
  /** histogram (s): enqueue (edge clock) -> claim (pool clock) */
  queueWait: "speedgate_queue_wait_seconds",
  /** histogram (s): a pool run's phases before the first Generate call, by phase = template | tokenize | prepare | dispatch */
  poolPhase: "speedgate_pool_phase_seconds",
  /** counter: Redis failures by component and operation */
  redisErrors: "speedgate_redis_errors_total",
  /** gauge: open SSE streams on this edge process */
  openStreams: "speedgate_edge_open_streams",
  /** gauge: requests this pool is running */
  poolInFlight: "speedgate_pool_in_flight_requests",
  /** gauge: 1 for the worker's current state (state label), 0 for the others */
  workerState: "speedgate_worker_state",
  /** gauge: 1 when the worker takes new requests (ready), else 0 */
  workerUp: "speedgate_worker_up",
  /** gauge: Generate calls this pool has open on the worker */
  workerInFlight: "speedgate_worker_in_flight_requests",
  /** gauges from the worker's GetLoads (summed over DP ranks; ratios averaged) */
  workerRunning: "speedgate_worker_running_requests",
  workerWaiting: "speedgate_worker_waiting_requests",
  workerKvUsage: "speedgate_worker_kv_cache_usage_ratio",
  workerKvHitRate: "speedgate_worker_kv_cache_hit_rate",
  workerThroughput: "speedgate_worker_generation_tokens_per_second",
  /** counter: failed Generate calls by worker and gRPC code */
  workerErrors: "speedgate_worker_errors_total",
  /** counter: output tokens received from each worker */
  workerTokens: "speedgate_worker_output_tokens_total",
  /** gauge: requests waiting in Redis per model and tenant */
  queued: "speedgate_queued_requests",
} as const;

/** Semantic-convention bucket boundaries (explicit bucket advice in the spec). */
export const BUCKETS = {
  ttft: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  timePerOutputToken: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5],
  requestDuration: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
  tokenUsage: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
  queueWait: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  poolPhase: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
} as const;

/** Label used for every tenant beyond the cap, and when there is no tenant (e.g. a 401). */
export const OTHER_TENANT = "other";
export const NO_TENANT = "none";

/**
 * Caps the cardinality of the tenant label: the first `limit` distinct tenants
 * this process sees get their own label value, every later one is "other".
 * First-seen (not top-N by traffic) keeps a tenant's series stable for the
 * life of the process; restart to re-rank. limit 0 = every tenant is "other".
 */
export class TenantLabels {
  private readonly known = new Set<string>();

  constructor(readonly limit: number) {}

  label(tenant: string | null | undefined): string {
    if (!tenant) return NO_TENANT;
    if (this.known.has(tenant)) return tenant;
    if (this.known.size >= this.limit) return OTHER_TENANT;
    this.known.add(tenant);
    return tenant;
  }
}

/** Default tenant-label cap (METRICS_TENANT_LABELS). */
/**
 * How often prom-client's event-loop lag histogram (nodejs_eventloop_lag_*) samples, in
 * ms. Its default, 10 ms, wakes an idle process 100 times a second: 7.5 ms of CPU per
 * second per process here, against 0.25 ms without it and 0.9 ms at 1 s. Every 100 ms
 * still catches the stalls worth alerting on.
 */
export const EVENT_LOOP_LAG_PRECISION_MS = 100;

export const DEFAULT_TENANT_LABELS = 20;
