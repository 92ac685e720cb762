// Everything the pool tells operators, fed by one RunObserver: Prometheus
// metrics (pool/metrics.ts), the status page's windows (recent errors,
// tokens per second) and one structured "request finished" log line per run
// (requestId, tenant, model, worker, outcome, token counts; never prompt text).
import type { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { TenantLabels } from "../../contract/metrics.js";
import type { ResponseEvent, Usage } from "../../contract/queue/messages.js";
import { PoolMetrics } from "./metrics.js";
import type { RunObserver, RunTrace } from "./run-observer.js";
import type { ClaimedJob, QueueObserver, QueueOp } from "../queue/client.js";
import type { WorkerLoads } from "./status/loads.js";
import { readQueues, type QueueSnapshot } from "./status/queues.js";
import { RateWindow, Ring, type RecentError } from "./status/ring.js";
import { describeWorker, type WorkerView } from "./status/workers.js";
import type { WorkerRegistry } from "../workers/registry.js";

export type Outcome = "ok" | "error" | "cancelled" | "abandoned";

export interface TelemetryOptions {
  registry: WorkerRegistry;
  redis: Redis;
  models: () => readonly string[];
  log: Logger;
  tenantLabels: number;
  /** GetLoads answers (only while the HTTP port is served) */
  loads?: WorkerLoads;
  /** how many recent errors the status page keeps */
  errorCapacity?: number;
  defaultMetrics?: boolean;
}

class Trace implements RunTrace {
  readonly startedAt = Date.now();
  readonly workers: string[] = [];
  firstTokenAt: number | null = null;
  lastTokenAt: number | null = null;
  tokensIn = 0;
  terminal: ResponseEvent | null = null;
  terminalAt = 0;

  constructor(
    readonly claimed: ClaimedJob,
    private readonly t: PoolTelemetry,
  ) {}

  /** performance.now() when the prompt was ready (the first call's dispatch is measured from it) */
  private preparedAt: number | undefined;

  prepared(timing: { templateMs: number; tokenizeMs: number } | undefined, prepareMs: number): void {
    this.preparedAt = performance.now();
    const phase = this.t.metrics.phase;
    phase.observe({ phase: "prepare" }, prepareMs / 1000);
    if (timing) {
      phase.observe({ phase: "template" }, timing.templateMs / 1000);
      phase.observe({ phase: "tokenize" }, timing.tokenizeMs / 1000);
    }
  }

  worker(worker: string): void {
    if (this.workers.length === 0 && this.preparedAt !== undefined) {
      // Routing (pick, waiting for a ready worker) up to the first Generate call.
      this.t.metrics.phase.observe({ phase: "dispatch" }, (performance.now() - this.preparedAt) / 1000);
    }
    if (!this.workers.includes(worker)) this.workers.push(worker);
  }

  tokens(worker: string, n: number): void {
    if (n <= 0) return;
    const now = Date.now();
    if (this.firstTokenAt === null) this.firstTokenAt = now;
    this.lastTokenAt = now;
    this.tokensIn += n;
    this.t.workerTokens(worker, n);
  }

  workerError(worker: string, code: string, message: string): void {
    this.t.workerError(this, worker, code, message);
  }

  written(events: readonly ResponseEvent[]): void {
    for (const e of events) {
      if (e.type !== "chunk" && this.terminal === null) {
        this.terminal = e;
        this.terminalAt = Date.now();
      }
    }
  }
}

export class PoolTelemetry implements RunObserver, QueueObserver {
  readonly metrics: PoolMetrics;
  readonly errors: Ring<RecentError>;
  readonly tenants: TenantLabels;
  private readonly runs = new Map<string, Trace>();
  private readonly rate = new RateWindow();
  private readonly workerRates = new Map<string, RateWindow>();
  private readonly perWorker = new Map<string, { counter: { inc(n: number): void }; rate: RateWindow }>();
  private readonly lastStates = new Map<string, string>();
  readonly outcomes: Record<Outcome, number> = { ok: 0, error: 0, cancelled: 0, abandoned: 0 };

  constructor(private readonly o: TelemetryOptions) {
    this.tenants = new TenantLabels(o.tenantLabels);
    this.errors = new Ring(o.errorCapacity ?? 50);
    this.metrics = new PoolMetrics(
      {
        workers: () => this.workers(),
        load: (a) => o.loads?.get(a),
        inFlight: () => this.runs.size,
        queues: () => this.queues(),
      },
      this.tenants,
      { defaultMetrics: o.defaultMetrics },
    );
  }

  /** Finishes a run's trace when the dispatcher settles it. */
  attach(events: EventEmitter): void {
    events.on("settled", (rid: string) => this.settled(rid));
  }

  begin(claimed: ClaimedJob): RunTrace {
    const trace = new Trace(claimed, this);
    this.runs.set(claimed.rid, trace);
    const job = claimed.job;
    if (job && claimed.attempt <= 1 && claimed.status === "ok") {
      this.metrics.queueWait.observe({ gen_ai_request_model: claimed.model }, Math.max(0, trace.startedAt - job.enqueued_at) / 1000);
    }
    return trace;
  }

  workers(): WorkerView[] {
    const views = this.o.registry.workers.map(describeWorker);
    for (const w of views) {
      const s = w.circuit === "open" ? "circuit open" : w.draining ? "draining" : w.state;
      const before = this.lastStates.get(w.address);
      if (before !== undefined && before !== s && (s === "unreachable" || s === "not_ready" || s === "circuit open")) {
        this.errors.push({ at: Date.now(), kind: "worker", worker: w.address, code: s.replace(" ", "_"), message: `worker ${before} -> ${s}` });
      }
      this.lastStates.set(w.address, s);
    }
    return views;
  }

  async queues(): Promise<QueueSnapshot | undefined> {
    try {
      return await readQueues(this.o.redis, this.o.models());
    } catch (e) {
      this.redisError("read_queues", (e as Error).message);
      return undefined;
    }
  }

  /** Requests this pool runs, per (model, tenant). */
  inFlightByTenant(): { model: string; tenant: string; inFlight: number }[] {
    const m = new Map<string, { model: string; tenant: string; inFlight: number }>();
    for (const t of this.runs.values()) {
      const tenant = t.claimed.job?.tenant_id ?? "?";
      const k = `${t.claimed.model}\u0000${tenant}`;
      const e = m.get(k) ?? { model: t.claimed.model, tenant, inFlight: 0 };
      e.inFlight++;
      m.set(k, e);
    }
    return [...m.values()];
  }

  get inFlight(): number {
    return this.runs.size;
  }

  tokensPerSecond(worker?: string): number {
    return worker === undefined ? this.rate.perSecond() : (this.workerRates.get(worker)?.perSecond() ?? 0);
  }

  /** QueueObserver: a failed queue operation counts as a Redis error of that op. */
  queueFailed(op: QueueOp, error: string): void {
    this.redisError(op, error);
  }

  redisError(op: string, message: string): void {
    this.metrics.redisErrors.inc({ component: "pool", op });
    this.errors.push({ at: Date.now(), kind: "redis", code: op, message });
  }

  /** Called for every token message: the worker's counter child and rate window are looked up once per worker. */
  workerTokens(worker: string, n: number): void {
    let w = this.perWorker.get(worker);
    if (!w) this.perWorker.set(worker, (w = { counter: this.metrics.workerTokens.labels({ worker }), rate: this.workerRate(worker) }));
    w.counter.inc(n);
    this.rate.add(n);
    w.rate.add(n);
  }

  private workerRate(worker: string): RateWindow {
    let r = this.workerRates.get(worker);
    if (!r) this.workerRates.set(worker, (r = new RateWindow()));
    return r;
  }

  workerError(trace: Trace, worker: string, code: string, message: string): void {
    this.metrics.workerErrors.inc({ worker, code });
    this.errors.push({
      at: Date.now(),
      kind: "worker",
      requestId: trace.claimed.rid,
      tenant: trace.claimed.job?.tenant_id,
      model: trace.claimed.model,
      worker,
      code,
      message,
    });
  }

  private settled(rid: string): void {
    const t = this.runs.get(rid);
    if (!t) return;
    this.runs.delete(rid);
    const { claimed } = t;
    const job = claimed.job;
    const model = claimed.model;
    const tenant = this.tenants.label(job?.tenant_id);
    const opName = job?.kind === "chat" ? "chat" : "text_completion";
    const op = { gen_ai_operation_name: opName, gen_ai_request_model: model };
    const ev = t.terminal;
    let outcome: Outcome;
    let errorType = "";
    let usage: Usage | null = null;
    if (ev?.type === "done") {
      outcome = "ok";
      usage = ev.usage;
    } else if (ev?.type === "error") {
      errorType = ev.error.code ?? String(ev.error.status);
      outcome = errorType === "cancelled" ? "cancelled" : "error";
    } else {
      outcome = "abandoned"; // lease lost, killed, or Redis failing: no terminal event from us
      errorType = "abandoned";
    }
    this.outcomes[outcome]++;
    this.metrics.requests.inc({ gen_ai_request_model: model, tenant, outcome, error_type: errorType });
    const end = ev ? t.terminalAt : Date.now();
    this.metrics.duration.observe({ ...op, error_type: errorType }, (end - t.startedAt) / 1000);
    if (t.firstTokenAt !== null && claimed.attempt <= 1) this.metrics.ttft.observe(op, (t.firstTokenAt - t.startedAt) / 1000);
    const tk = { tenant, gen_ai_request_model: model };
    if (usage) {
      this.metrics.tokenUsage.observe({ ...op, gen_ai_token_type: "input" }, usage.prompt_tokens);
      this.metrics.tokenUsage.observe({ ...op, gen_ai_token_type: "output" }, usage.completion_tokens);
      this.metrics.tokens.inc({ ...tk, type: "input" }, usage.prompt_tokens);
      this.metrics.tokens.inc({ ...tk, type: "output" }, usage.completion_tokens);
      this.metrics.tokens.inc({ ...tk, type: "cached" }, usage.cached_tokens);
      if (usage.completion_tokens >= 2 && t.firstTokenAt !== null && t.lastTokenAt !== null && t.lastTokenAt > t.firstTokenAt) {
        this.metrics.tpot.observe(op, (t.lastTokenAt - t.firstTokenAt) / 1000 / (usage.completion_tokens - 1));
      }
    } else if (t.tokensIn > 0) {
      this.metrics.tokens.inc({ ...tk, type: "output" }, t.tokensIn);
    }
    if (ev?.type === "error" && outcome === "error") {
      this.errors.push({
        at: Date.now(),
        kind: "request",
        requestId: rid,
        tenant: job?.tenant_id,
        model,
        worker: t.workers.at(-1),
        code: errorType,
        message: ev.error.message,
      });
    }
    const line: Record<string, unknown> = {
      requestId: rid,
      tenant: job?.tenant_id,
      model,
      worker: t.workers.length === 1 ? t.workers[0] : t.workers.length ? t.workers : undefined,
      attempt: claimed.attempt,
      outcome,
      ms: end - t.startedAt,
    };
    if (errorType) line.error = errorType;
    if (t.firstTokenAt !== null) line.ttftMs = t.firstTokenAt - t.startedAt;
    if (job && claimed.attempt <= 1) line.queueMs = Math.max(0, t.startedAt - job.enqueued_at);
    if (usage) {
      line.promptTokens = usage.prompt_tokens;
      line.completionTokens = usage.completion_tokens;
      line.cachedTokens = usage.cached_tokens;
    }
    this.o.log.info(line, "request finished");
  }
}
