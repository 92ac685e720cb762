// The pool's Prometheus metrics (names in contract/metrics.ts). One Registry per
// pool, so several pools in one test process do not collide. Counters and
// histograms are fed by PoolTelemetry as runs progress; gauges (workers,
// loads, queues) are read at scrape time from their sources.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { BUCKETS, EVENT_LOOP_LAG_PRECISION_MS, METRIC, OTHER_TENANT, type TenantLabels } from "../../contract/metrics.js";
import type { WorkerLoad } from "./status/loads.js";
import type { QueueSnapshot } from "./status/queues.js";
import { KNOWN_WORKER_STATES, type WorkerView } from "./status/workers.js";

export interface PoolMetricsSources {
  workers(): WorkerView[];
  load(address: string): WorkerLoad | undefined;
  inFlight(): number;
  /** current queue state from Redis; undefined when it cannot be read (the gauge is then left out) */
  queues(): Promise<QueueSnapshot | undefined>;
}

type Op = "gen_ai_operation_name" | "gen_ai_request_model";

export class PoolMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"gen_ai_request_model" | "tenant" | "outcome" | "error_type">;
  readonly duration: Histogram<Op | "error_type">;
  readonly ttft: Histogram<Op>;
  readonly tpot: Histogram<Op>;
  readonly queueWait: Histogram<"gen_ai_request_model">;
  readonly phase: Histogram<"phase">;
  readonly tokenUsage: Histogram<Op | "gen_ai_token_type">;
  readonly tokens: Counter<"tenant" | "gen_ai_request_model" | "type">;
  readonly workerTokens: Counter<"worker">;
  readonly workerErrors: Counter<"worker" | "code">;
  readonly redisErrors: Counter<"component" | "op">;

  constructor(
    private readonly src: PoolMetricsSources,
    private readonly tenants: TenantLabels,
    opts: { defaultMetrics?: boolean } = {},
  ) {
    const registers = [this.registry];
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_LAG_PRECISION_MS });
    const op: Op[] = ["gen_ai_operation_name", "gen_ai_request_model"];
    this.requests = new Counter({
      name: METRIC.poolRequests,
      help: "Request runs ended on this pool, by outcome (ok|error|cancelled|abandoned) and error_type (the ErrorInfo code)",
      labelNames: ["gen_ai_request_model", "tenant", "outcome", "error_type"],
      registers,
    });
    this.duration = new Histogram({
      name: METRIC.requestDuration,
      help: "Pool side: claim to terminal event (all outcomes; error_type set on failures)",
      labelNames: [...op, "error_type"],
      buckets: [...BUCKETS.requestDuration],
      registers,
    });
    this.ttft = new Histogram({
      name: METRIC.ttft,
      help: "Pool side: claim to the first output token from a worker (tokenization + routing + queueing in the engine + prefill); first attempts only",
      labelNames: op,
      buckets: [...BUCKETS.ttft],
      registers,
    });
    this.tpot = new Histogram({
      name: METRIC.timePerOutputToken,
      help: "Pool side: (last token - first token) / (output tokens - 1) per successful request, as received from the worker",
      labelNames: op,
      buckets: [...BUCKETS.timePerOutputToken],
      registers,
    });
    this.queueWait = new Histogram({
      name: METRIC.queueWait,
      help: "Time a job waited in the Redis queue: enqueue (edge clock) to claim (pool clock); first claims only",
      labelNames: ["gen_ai_request_model"],
      buckets: [...BUCKETS.queueWait],
      registers,
    });
    this.phase = new Histogram({
      name: METRIC.poolPhase,
      help: "Pool side, before the first Generate call: template render, tokenize, prepare (both, thread queueing included) and dispatch (prompt ready -> call started: the rest of the lease's begin round trip, then routing)",
      labelNames: ["phase"],
      buckets: [...BUCKETS.poolPhase],
      registers,
    });
    this.tokenUsage = new Histogram({
      name: METRIC.tokenUsage,
      help: "Tokens per successful request (gen_ai_token_type input|output), as written to the response stream",
      labelNames: [...op, "gen_ai_token_type"],
      buckets: [...BUCKETS.tokenUsage],
      registers,
    });
    this.tokens = new Counter({
      name: METRIC.tokens,
      help: "Tokens by tenant (capped), model and type (input|output|cached): a successful run's usage; other runs add the output tokens they streamed",
      labelNames: ["tenant", "gen_ai_request_model", "type"],
      registers,
    });
    this.workerTokens = new Counter({
      name: METRIC.workerTokens,
      help: "Output token ids received from each worker",
      labelNames: ["worker"],
      registers,
    });
    this.workerErrors = new Counter({
      name: METRIC.workerErrors,
      help: "Failed Generate calls by worker and gRPC status",
      labelNames: ["worker", "code"],
      registers,
    });
    this.redisErrors = new Counter({
      name: METRIC.redisErrors,
      help: "Redis failures (connection errors, failed queue operations) by component and op",
      labelNames: ["component", "op"],
      registers,
    });

    // ---- gauges read at scrape time ----
    new Gauge({
      name: METRIC.poolInFlight,
      help: "Requests this pool is running",
      registers,
      collect() {
        this.set(src.inFlight());
      },
    });
    const perWorker = (name: string, help: string, value: (w: WorkerView, l: WorkerLoad | undefined) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ["worker"],
        registers,
        collect() {
          this.reset();
          for (const w of src.workers()) {
            const v = value(w, src.load(w.address));
            if (v !== undefined) this.set({ worker: w.address }, v);
          }
        },
      });
    perWorker(METRIC.workerUp, "1 when the worker takes new requests (ready, not draining, circuit not open)", (w) => (w.up ? 1 : 0));
    perWorker(METRIC.workerInFlight, "Generate calls this pool has open on the worker", (w) => w.inFlight);
    perWorker(METRIC.workerRunning, "Running requests on the worker (GetLoads, all clients)", (_, l) => l?.running);
    perWorker(METRIC.workerWaiting, "Waiting requests on the worker (GetLoads)", (_, l) => l?.waiting);
    perWorker(METRIC.workerKvUsage, "KV cache token usage ratio (GetLoads)", (_, l) => l?.kvUsage);
    perWorker(METRIC.workerKvHitRate, "Prefix (KV) cache hit rate reported by the engine (GetLoads)", (_, l) => l?.cacheHitRate);
    perWorker(METRIC.workerThroughput, "Generation throughput reported by the engine (GetLoads)", (_, l) => l?.genThroughput);
    new Gauge({
      name: METRIC.workerState,
      help: "1 for the worker's current state, 0 for the others (state: starting|ready|not_ready|unreachable|draining|circuit_open...)",
      labelNames: ["worker", "state"],
      registers,
      collect() {
        this.reset();
        for (const w of src.workers()) {
          const current = w.circuit === "open" ? "circuit_open" : w.draining ? "draining" : w.state;
          const states = new Set([...KNOWN_WORKER_STATES, "circuit_open", current]);
          for (const s of states) this.set({ worker: w.address, state: s }, s === current ? 1 : 0);
        }
      },
    });
    const tenantsRef = this.tenants;
    new Gauge({
      name: METRIC.queued,
      help: "Requests waiting in Redis, by model and tenant (capped; all pools see the same queue)",
      labelNames: ["gen_ai_request_model", "tenant"],
      registers,
      async collect() {
        const q = await src.queues();
        this.reset();
        if (!q) return;
        const sums = new Map<string, { model: string; tenant: string; n: number }>();
        for (const t of q.tenants) {
          const tenant = tenantsRef.label(t.tenant);
          const k = `${t.model}\u0000${tenant}`;
          const e = sums.get(k) ?? { model: t.model, tenant, n: 0 };
          e.n += t.queued;
          sums.set(k, e);
        }
        for (const e of sums.values()) this.set({ gen_ai_request_model: e.model, tenant: e.tenant }, e.n);
        // An empty queue still shows up (0), so dashboards see "nothing waiting" rather than no data.
        for (const model of Object.keys(q.leased)) {
          if (![...sums.values()].some((e) => e.model === model)) this.set({ gen_ai_request_model: model, tenant: OTHER_TENANT }, 0);
        }
      },
    });
  }
}
