// The configured workers: their served model, readiness (grpc.health.v1 Check) and
// this pool's in-flight count per worker, which the Router reads.
import type { Logger } from "pino";
import { WorkerClient } from "./client.js";
import type { Router, RouteRequest } from "./router.js";

export type WorkerState = "starting" | "ready" | "not_ready" | "unreachable";

export interface WorkerEntry {
  readonly address: string;
  readonly client: WorkerClient;
  inFlight: number;
  state: WorkerState;
  /** served_model_name from GetModelInfo (undefined until known). */
  model: string | undefined;
  eosTokenIds: number[];
}

export class WorkerRegistry {
  readonly workers: WorkerEntry[];
  private timer: NodeJS.Timeout | undefined;
  private readonly readyWaiters = new Set<() => void>();

  constructor(
    addresses: readonly string[],
    private readonly router: Router,
    private readonly log: Logger,
    /** MODEL from config: every worker is taken to serve this name, whatever it calls itself. */
    private readonly modelAlias?: string,
  ) {
    this.workers = addresses.map((address) => ({
      address,
      client: new WorkerClient(address),
      inFlight: 0,
      state: "starting" as WorkerState,
      model: undefined,
      eosTokenIds: [],
    }));
  }

  /** Probes every worker once (model info + readiness). */
  async refresh(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.probe(w)));
  }

  private async probe(w: WorkerEntry): Promise<void> {
    const before = w.state;
    if (w.model === undefined) {
      const info = await w.client.getModelInfo(2_000);
      if (!info.ok) {
        w.state = "unreachable";
        this.logChange(w, before, info.error.message);
        return;
      }
      w.model = this.modelAlias ?? (info.value.servedModelName || info.value.modelPath);
      w.eosTokenIds = info.value.eosTokenIds.filter((x) => x >= 0);
    }
    const r = await w.client.ready("", 2_000);
    w.state = r.ok ? (r.value ? "ready" : "not_ready") : "unreachable";
    this.logChange(w, before, r.ok ? undefined : r.error.message);
    if (w.state === "ready") for (const f of [...this.readyWaiters]) f();
  }

  private logChange(w: WorkerEntry, before: WorkerState, why?: string): void {
    if (w.state !== before) this.log.info({ worker: w.address, from: before, to: w.state, why }, "worker state");
  }

  /** Re-probes every intervalMs. A failed call also marks a worker unreachable at once (markFailed). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const w of this.workers) w.client.close();
  }

  models(): string[] {
    return [...new Set(this.workers.map((w) => w.model).filter((m): m is string => m !== undefined))];
  }

  /** Picks a ready worker for the model, avoiding `exclude` unless nothing else is ready. */
  pick(req: RouteRequest, exclude: ReadonlySet<string> = new Set()): WorkerEntry | undefined {
    const ready = this.workers.filter((w) => w.state === "ready" && w.model === req.model);
    const fresh = ready.filter((w) => !exclude.has(w.address));
    return this.router.pick(fresh.length > 0 ? fresh : ready, req);
  }

  /** Resolves when some worker for the model is ready, or false after timeoutMs. */
  waitReady(model: string, timeoutMs: number): Promise<boolean> {
    const has = () => this.workers.some((w) => w.state === "ready" && w.model === model);
    if (has()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(t);
        this.readyWaiters.delete(check);
        resolve(v);
      };
      const check = () => has() && done(true);
      const t = setTimeout(() => done(false), timeoutMs);
      this.readyWaiters.add(check);
    });
  }

  /** A transport-level failure: stop routing to it until the next probe says otherwise. */
  markFailed(w: WorkerEntry): void {
    if (w.state === "ready") {
      w.state = "unreachable";
      this.log.warn({ worker: w.address }, "worker marked unreachable after a failed call");
      void this.probe(w);
    }
  }
}
