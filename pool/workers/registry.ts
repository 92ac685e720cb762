// The workers: configured ones and those that join/leave at run time (discovery.ts),
// their served model, readiness (grpc.health.v1 Check), a circuit breaker each, draining,
// a hung-worker watchdog (deep HealthCheck only to confirm a suspect), GetLoads polling
// when the policy wants it, and this pool's in-flight counts, which the Router reads.
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { WorkerClient } from "./client.js";
import { CircuitBreaker, DEFAULT_BREAKER, type BreakerOptions, type BreakerState } from "./circuit-breaker.js";
import type { LoadSnapshot, Router, RouteRequest } from "../routing/router.js";

/** hung: the watchdog saw no frame for too long and the deep HealthCheck confirmed it. */
export type WorkerState = "starting" | "ready" | "not_ready" | "unreachable" | "hung";

/**
 * Hung-worker watchdog: a worker with open calls that produced no frame on any of them
 * for  max(minSilenceMs, gapFactor x its typical inter-frame gap)
 *      + (prompt tokens awaiting their first frame) / prefillTokensPerS
 * is suspected; one deep HealthCheck (timeout confirmMs) confirms it, then its calls are
 * cancelled (and Aborted) and migrated. Detection bound = that silence + tickMs + confirmMs.
 */
export interface HungOptions {
  minSilenceMs: number;
  gapFactor: number;
  /** A deliberately low estimate of the workers' prefill speed (a long prompt legitimately delays the first frame). */
  prefillTokensPerS: number;
  confirmMs: number;
  tickMs: number;
}

export const DEFAULT_HUNG: HungOptions = { minSilenceMs: 1_000, gapFactor: 20, prefillTokensPerS: 4_000, confirmMs: 1_000, tickMs: 100 };

export interface RegistryOptions {
  breaker: BreakerOptions;
  hung: HungOptions;
  /** GetLoads period when the router wants loads. */
  loadsIntervalMs: number;
}

export const DEFAULT_REGISTRY: RegistryOptions = { breaker: DEFAULT_BREAKER, hung: DEFAULT_HUNG, loadsIntervalMs: 1_000 };

/** One open Generate call on a worker. */
export interface CallTrack {
  readonly worker: WorkerEntry;
  /** Aborted by the run (cancel/stop) or by the registry (worker hung, removed). */
  readonly abort: AbortController;
  /** Set when the registry aborted the call: the worker is gone/hung, migrate. */
  workerFailure: string | undefined;
  prefillTokens: number;
  gotFirstFrame: boolean;
  lastFrameAt: number;
}

export type CallOutcome = "ok" | "failure" | "neutral";

export interface WorkerEntry {
  readonly address: string;
  readonly client: WorkerClient;
  inFlight: number;
  state: WorkerState;
  /** served_model_name from GetModelInfo (undefined until known). */
  model: string | undefined;
  eosTokenIds: number[];
  /** "config" (WORKERS) or "discovered" (registered in Redis at run time). */
  source: "config" | "discovered";
  /** No new work; open streams finish. */
  draining: boolean;
  breaker: CircuitBreaker;
  /** Uncached prompt tokens of our calls that have no first frame yet (routing load). */
  pendingPrefillTokens: number;
  loads: LoadSnapshot | undefined;
  calls: Set<CallTrack>;
  /** performance.now() of the last frame on any call (or of the first call after silence). */
  lastProgressAt: number;
  /** EWMA of the gap between consecutive frames of one call. */
  gapEwmaMs: number;
  probing: boolean;
  removed: boolean;
}

export class WorkerRegistry {
  readonly workers: WorkerEntry[] = [];
  /**
   * "state" (address, from, to), "breaker" (address, from: BreakerState, to: BreakerState),
   * "hung" (address, detectedAtMs epoch), "added" (address), "removed" (address), "draining" (address, on).
   */
  readonly events = new EventEmitter();
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private loadsTimer: NodeJS.Timeout | undefined;
  private readonly readyWaiters = new Set<() => void>();

  constructor(
    addresses: readonly string[],
    readonly router: Router,
    private readonly log: Logger,
    /** MODEL from config: every worker is taken to serve this name, whatever it calls itself. */
    private readonly modelAlias?: string,
    readonly opts: RegistryOptions = DEFAULT_REGISTRY,
  ) {
    this.events.setMaxListeners(0);
    for (const a of addresses) this.add(a, "config");
  }

  get(address: string): WorkerEntry | undefined {
    return this.workers.find((w) => w.address === address);
  }

  /** Adds a worker (no-op if known). It serves once a probe finds it ready. */
  add(address: string, source: "config" | "discovered" = "discovered"): WorkerEntry {
    const known = this.get(address);
    if (known) {
      if (known.draining && source === "discovered" && known.source === "discovered") this.drain(address, false);
      return known;
    }
    const w: WorkerEntry = {
      address,
      client: new WorkerClient(address),
      inFlight: 0,
      state: "starting",
      model: undefined,
      eosTokenIds: [],
      source,
      draining: false,
      breaker: undefined as unknown as CircuitBreaker,
      pendingPrefillTokens: 0,
      loads: undefined,
      calls: new Set(),
      lastProgressAt: performance.now(),
      gapEwmaMs: 0,
      probing: false,
      removed: false,
    };
    w.breaker = new CircuitBreaker(this.opts.breaker, (from, to) => this.onBreaker(w, from, to));
    this.workers.push(w);
    this.router.workerAdded?.(w);
    this.events.emit("added", address);
    if (this.timer) void this.probe(w); // running: probe now rather than at the next round
    return w;
  }

  /**
   * Removes a worker: it gets no new work at once; open streams finish (graceful, the
   * default) or are cancelled and migrated (graceful=false, e.g. it is known dead).
   */
  remove(address: string, graceful = true): void {
    const w = this.get(address);
    if (!w || w.removed) return;
    w.removed = true;
    w.draining = true;
    if (!graceful) for (const c of [...w.calls]) this.failCall(c, "worker removed");
    const finish = () => {
      const i = this.workers.indexOf(w);
      if (i >= 0) this.workers.splice(i, 1);
      this.router.workerRemoved?.(address);
      w.client.close();
      this.events.emit("removed", address);
      this.log.info({ worker: address }, "worker removed");
    };
    if (w.calls.size === 0) finish();
    else {
      const onIdle = (a: string) => {
        if (a !== address || w.calls.size > 0) return;
        this.events.off("idle", onIdle);
        finish();
      };
      this.events.on("idle", onIdle);
    }
  }

  /** Draining: no new work for the worker; its open streams finish normally. */
  drain(address: string, on = true): boolean {
    const w = this.get(address);
    if (!w || w.removed || w.draining === on) return !!w;
    w.draining = on;
    this.log.info({ worker: address, draining: on }, "worker draining");
    this.events.emit("draining", address, on);
    if (!on) for (const f of [...this.readyWaiters]) f();
    return true;
  }

  private onBreaker(w: WorkerEntry, from: BreakerState, to: BreakerState): void {
    this.log.warn({ worker: w.address, from, to }, "circuit breaker");
    this.events.emit("breaker", w.address, from, to);
  }

  /** Probes every worker once (model info + readiness). */
  async refresh(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.probe(w)));
  }

  private async probe(w: WorkerEntry): Promise<void> {
    if (w.removed) return;
    const before = w.state;
    if (w.state === "hung") {
      // grpc.health.v1 may still say SERVING for a frozen engine: only the deep probe clears it.
      const h = await w.client.healthCheck(this.opts.hung.confirmMs * 2);
      if (!h.ok || !h.value.healthy) return;
      w.state = "not_ready";
    }
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
    if ((w.state as WorkerState) === "hung") return; // the watchdog confirmed a hang meanwhile
    w.state = r.ok ? (r.value ? "ready" : "not_ready") : "unreachable";
    this.logChange(w, before, r.ok ? undefined : r.error.message);
    if (w.state === "ready") for (const f of [...this.readyWaiters]) f();
  }

  private logChange(w: WorkerEntry, before: WorkerState, why?: string): void {
    if (w.state === before) return;
    this.log.info({ worker: w.address, from: before, to: w.state, why }, "worker state");
    this.events.emit("state", w.address, before, w.state);
  }

  /**
   * Re-probes every intervalMs. A failed call also marks a worker unreachable at once
   * (markFailed). Starts the hung-worker watchdog and, if the router wants them, GetLoads polls.
   */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
    this.watchdog = setInterval(() => this.checkHung(), this.opts.hung.tickMs);
    this.watchdog.unref();
    if (this.router.wantsLoads) {
      const poll = () => void Promise.all(this.workers.filter((w) => w.state === "ready").map((w) => this.pollLoads(w)));
      poll();
      this.loadsTimer = setInterval(poll, this.opts.loadsIntervalMs);
      this.loadsTimer.unref();
    }
  }

  stop(): void {
    for (const t of [this.timer, this.watchdog, this.loadsTimer]) if (t) clearInterval(t);
    this.timer = this.watchdog = this.loadsTimer = undefined;
    this.router.stop?.();
    for (const w of this.workers) w.client.close();
  }

  private async pollLoads(w: WorkerEntry): Promise<void> {
    const r = await w.client.getLoads(Math.max(500, this.opts.loadsIntervalMs));
    // An empty list means "no data" (wire §3.8); errors keep the last snapshot until it goes stale.
    if (!r.ok || r.value.loads.length === 0) return;
    const l = r.value.loads;
    const snap: LoadSnapshot = {
      at: performance.now(),
      running: l.reduce((a, x) => a + x.numRunningReqs, 0),
      waiting: l.reduce((a, x) => a + x.numWaitingReqs, 0),
      waitingUncachedTokens: l.reduce((a, x) => a + x.numWaitingUncachedTokens, 0),
      tokenUsage: l.reduce((a, x) => a + x.tokenUsage, 0) / l.length,
      genThroughput: l.reduce((a, x) => a + x.genThroughput, 0),
      maxTotalTokens: l.reduce((a, x) => a + x.maxTotalNumTokens, 0),
    };
    w.loads = snap;
    this.router.loadsUpdated?.(w.address, snap);
  }

  // ---- calls: the breaker, routing load and the hung watchdog see every Generate call ----

  /** A Generate call is about to be sent to `w` for `req`. Abort `track.abort` to cancel it. */
  beginCall(w: WorkerEntry, req: RouteRequest, parent: AbortSignal): CallTrack {
    const abort = new AbortController();
    if (parent.aborted) abort.abort();
    else parent.addEventListener("abort", () => abort.abort(), { once: true });
    const now = performance.now();
    if (w.calls.size === 0) w.lastProgressAt = now;
    const track: CallTrack = {
      worker: w,
      abort,
      workerFailure: undefined,
      prefillTokens: this.router.prefillEstimate?.(w.address, req) ?? req.inputIds.length,
      gotFirstFrame: false,
      lastFrameAt: now,
    };
    w.calls.add(track);
    w.inFlight++;
    w.pendingPrefillTokens += track.prefillTokens;
    w.breaker.dispatched();
    this.router.routed?.(w, req);
    return track;
  }

  /** A frame arrived on the call. */
  frame(track: CallTrack): void {
    const now = performance.now();
    const w = track.worker;
    if (!track.gotFirstFrame) {
      track.gotFirstFrame = true;
      w.pendingPrefillTokens = Math.max(0, w.pendingPrefillTokens - track.prefillTokens);
      w.breaker.success(); // smg records the outcome when Generate returns its headers
    } else {
      const gap = now - track.lastFrameAt;
      w.gapEwmaMs = w.gapEwmaMs === 0 ? gap : 0.9 * w.gapEwmaMs + 0.1 * gap;
    }
    track.lastFrameAt = now;
    w.lastProgressAt = now;
  }

  /** The call ended. failure = a retryable error (counts against the breaker). */
  endCall(track: CallTrack, outcome: CallOutcome, req?: RouteRequest, cachedIds?: readonly number[]): void {
    const w = track.worker;
    if (!w.calls.delete(track)) return;
    w.inFlight--;
    if (!track.gotFirstFrame) w.pendingPrefillTokens = Math.max(0, w.pendingPrefillTokens - track.prefillTokens);
    if (outcome === "failure" && !track.workerFailure) w.breaker.failure();
    else if (outcome === "ok" && !track.gotFirstFrame) w.breaker.success();
    else if (outcome === "neutral" && !track.gotFirstFrame) w.breaker.released();
    if (outcome === "ok" && req && cachedIds) this.router.finished?.(w, req, cachedIds);
    if (w.calls.size === 0) this.events.emit("idle", w.address);
  }

  private failCall(c: CallTrack, why: string): void {
    if (c.workerFailure) return;
    c.workerFailure = why;
    c.abort.abort();
  }

  /** Allowed silence for a worker with open calls before it is suspected hung. */
  silenceAllowanceMs(w: WorkerEntry): number {
    const h = this.opts.hung;
    let awaiting = 0;
    for (const c of w.calls) if (!c.gotFirstFrame) awaiting += c.prefillTokens;
    return Math.max(h.minSilenceMs, h.gapFactor * w.gapEwmaMs) + (awaiting * 1000) / h.prefillTokensPerS;
  }

  private checkHung(): void {
    const now = performance.now();
    for (const w of this.workers) {
      if (w.calls.size === 0 || w.probing || w.state === "hung") continue;
      if (now - w.lastProgressAt <= this.silenceAllowanceMs(w)) continue;
      w.probing = true;
      const silentMs = now - w.lastProgressAt;
      this.log.warn({ worker: w.address, silentMs: Math.round(silentMs), calls: w.calls.size }, "worker silent; confirming with HealthCheck");
      void w.client.healthCheck(this.opts.hung.confirmMs).then((r) => {
        w.probing = false;
        if (r.ok && r.value.healthy) {
          w.lastProgressAt = performance.now(); // alive, just slow: give it another allowance
          return;
        }
        this.markHung(w, r.ok ? r.value.message : r.error.message);
      });
    }
  }

  /** Confirmed hung: no new work, breaker open, open calls cancelled (+ Abort) and migrated. */
  markHung(w: WorkerEntry, why: string): void {
    const before = w.state;
    w.state = "hung";
    this.logChange(w, before, why);
    w.breaker.trip();
    this.events.emit("hung", w.address, performance.timeOrigin + performance.now());
    for (const c of [...w.calls]) this.failCall(c, `worker hung: ${why}`);
  }

  models(): string[] {
    return [...new Set(this.workers.map((w) => w.model).filter((m): m is string => m !== undefined))];
  }

  /** Ready, not draining, circuit allowing a call. */
  private usable(w: WorkerEntry, model: string): boolean {
    return w.state === "ready" && !w.draining && w.model === model && w.breaker.allows();
  }

  /** Picks a ready worker for the model, avoiding `exclude` unless nothing else is ready. */
  pick(req: RouteRequest, exclude: ReadonlySet<string> = new Set()): WorkerEntry | undefined {
    const ready = this.workers.filter((w) => this.usable(w, req.model));
    const fresh = ready.filter((w) => !exclude.has(w.address));
    return this.router.pick(fresh.length > 0 ? fresh : ready, req);
  }

  /** Resolves when some worker for the model is ready, or false after timeoutMs. */
  waitReady(model: string, timeoutMs: number): Promise<boolean> {
    const has = () => this.workers.some((w) => this.usable(w, model));
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
