// One worker as the pool sees it, one open Generate call on it, and the state
// the registry's parts share (membership, probes, calls, watchdog, loads, pick).
import type { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { LoadSnapshot, Router } from "../routing/router.js";
import type { BreakerOptions, CircuitBreaker } from "./circuit-breaker.js";
import type { WorkerClient } from "./client.js";
import type { HungOptions } from "./watchdog.js";

/** hung: the watchdog saw no frame for too long and the deep HealthCheck confirmed it. */
export type WorkerState = "starting" | "ready" | "not_ready" | "unreachable" | "hung";

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

export interface RegistryOptions {
  breaker: BreakerOptions;
  hung: HungOptions;
  /** GetLoads period when the router wants loads, or pollLoads is set. */
  loadsIntervalMs: number;
  /** poll GetLoads even when the router does not use them (the metrics and the status page show them) */
  pollLoads?: boolean;
}

/** What the registry's parts share: the list, its events, the router, and who waits for a ready worker. */
export interface Workers {
  readonly workers: WorkerEntry[];
  readonly events: EventEmitter;
  readonly router: Router;
  readonly log: Logger;
  readonly opts: RegistryOptions;
  /** MODEL from config: every worker is taken to serve this name, whatever it calls itself. */
  readonly modelAlias: string | undefined;
  readonly readyWaiters: Set<() => void>;
}

export const find = (ws: Workers, address: string): WorkerEntry | undefined => ws.workers.find((w) => w.address === address);

/** Logs and emits "state" when a probe or the watchdog changed a worker's state. */
export function stateChanged(ws: Workers, w: WorkerEntry, before: WorkerState, why?: string): void {
  if (w.state === before) return;
  ws.log.info({ worker: w.address, from: before, to: w.state, why }, "worker state");
  ws.events.emit("state", w.address, before, w.state);
}

/** Wakes waitReady() callers (a worker became ready or stopped draining). */
export function wakeReadyWaiters(ws: Workers): void {
  for (const f of [...ws.readyWaiters]) f();
}
