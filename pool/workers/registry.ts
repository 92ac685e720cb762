// The workers, behind one facade for the rest of the pool: membership
// (membership.ts), readiness probes (probes.ts), per-call tracking feeding the
// breakers and routing load (calls.ts, circuit-breaker.ts), the hung-worker
// watchdog (watchdog.ts), GetLoads polling (loads.ts) and pick (pick.ts).
// This file only owns the timers and wires the parts to one shared state.
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { Router, RouteRequest } from "../routing/router.js";
import { beginCall, endCall, frame } from "./calls.js";
import { DEFAULT_BREAKER } from "./circuit-breaker.js";
import { find, type CallOutcome, type CallTrack, type RegistryOptions, type WorkerEntry, type Workers } from "./entry.js";
import { pollReachableLoads } from "./loads.js";
import { addWorker, drainWorker, removeWorker } from "./membership.js";
import { pick, waitReady } from "./pick.js";
import { markFailed, probe } from "./probes.js";
import { checkHung, DEFAULT_HUNG, markHung, silenceAllowanceMs } from "./watchdog.js";

export type { CallOutcome, CallTrack, RegistryOptions, WorkerEntry, WorkerState } from "./entry.js";
export { DEFAULT_HUNG, type HungOptions } from "./watchdog.js";

export const DEFAULT_REGISTRY: RegistryOptions = { breaker: DEFAULT_BREAKER, hung: DEFAULT_HUNG, loadsIntervalMs: 1_000 };

export class WorkerRegistry {
  readonly workers: WorkerEntry[] = [];
  /**
   * "state" (address, from, to), "breaker" (address, from: BreakerState, to: BreakerState),
   * "hung" (address, detectedAtMs epoch), "added" (address), "removed" (address), "draining" (address, on), "idle" (address).
   */
  readonly events = new EventEmitter();
  private readonly ws: Workers;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private loadsTimer: NodeJS.Timeout | undefined;

  constructor(
    addresses: readonly string[],
    readonly router: Router,
    log: Logger,
    /** MODEL from config: every worker is taken to serve this name, whatever it calls itself. */
    modelAlias?: string,
    readonly opts: RegistryOptions = DEFAULT_REGISTRY,
  ) {
    this.events.setMaxListeners(0);
    this.ws = { workers: this.workers, events: this.events, router, log, opts, modelAlias, readyWaiters: new Set() };
    for (const a of addresses) this.add(a, "config");
  }

  get(address: string): WorkerEntry | undefined {
    return find(this.ws, address);
  }

  /** Adds a worker (no-op if known). It serves once a probe finds it ready. */
  add(address: string, source: "config" | "discovered" = "discovered"): WorkerEntry {
    const { entry, isNew } = addWorker(this.ws, address, source);
    if (isNew && this.timer) void probe(this.ws, entry); // running: probe now rather than at the next round
    return entry;
  }

  /**
   * Removes a worker: it gets no new work at once; open streams finish (graceful, the
   * default) or are cancelled and migrated (graceful=false, e.g. it is known dead).
   */
  remove(address: string, graceful = true): void {
    removeWorker(this.ws, address, graceful);
  }

  /** Draining: no new work for the worker; its open streams finish normally. */
  drain(address: string, on = true): boolean {
    return drainWorker(this.ws, address, on);
  }

  /** Probes every worker once (model info + readiness). */
  async refresh(): Promise<void> {
    await Promise.all(this.workers.map((w) => probe(this.ws, w)));
  }

  /**
   * Re-probes every intervalMs. A failed call also marks a worker unreachable at once
   * (markFailed). Starts the hung-worker watchdog and, if the router or the telemetry wants
   * them (opts.pollLoads), GetLoads polls.
   */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
    this.watchdog = setInterval(() => checkHung(this.ws), this.opts.hung.tickMs);
    this.watchdog.unref();
    if (this.router.wantsLoads || this.opts.pollLoads) {
      let busy = false; // never overlap a slow round (a worker timing out) with the next
      const poll = () => {
        if (busy) return;
        busy = true;
        void pollReachableLoads(this.ws).finally(() => (busy = false));
      };
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

  // ---- calls: the breaker, routing load and the hung watchdog see every Generate call ----

  /** A Generate call is about to be sent to `w` for `req`. Abort `track.abort` to cancel it. */
  beginCall(w: WorkerEntry, req: RouteRequest, parent: AbortSignal): CallTrack {
    return beginCall(this.ws, w, req, parent);
  }

  /** A frame arrived on the call. */
  frame(track: CallTrack): void {
    frame(track);
  }

  /** The call ended. failure = a retryable error (counts against the breaker). */
  endCall(track: CallTrack, outcome: CallOutcome, req?: RouteRequest, cachedIds?: readonly number[]): void {
    endCall(this.ws, track, outcome, req, cachedIds);
  }

  /** Allowed silence for a worker with open calls before it is suspected hung. */
  silenceAllowanceMs(w: WorkerEntry): number {
    return silenceAllowanceMs(this.opts.hung, w);
  }

  /** Confirmed hung: no new work, breaker open, open calls cancelled (+ Abort) and migrated. */
  markHung(w: WorkerEntry, why: string): void {
    markHung(this.ws, w, why);
  }

  models(): string[] {
    return [...new Set(this.workers.map((w) => w.model).filter((m): m is string => m !== undefined))];
  }

  /** Picks a ready worker for the model, avoiding `exclude` unless nothing else is ready. */
  pick(req: RouteRequest, exclude: ReadonlySet<string> = new Set()): WorkerEntry | undefined {
    return pick(this.ws, req, exclude);
  }

  /** Resolves when some worker for the model is ready, or false after timeoutMs. */
  waitReady(model: string, timeoutMs: number): Promise<boolean> {
    return waitReady(this.ws, model, timeoutMs);
  }

  /** A transport-level failure: stop routing to it until the next probe says otherwise. */
  markFailed(w: WorkerEntry): void {
    markFailed(this.ws, w);
  }
}
