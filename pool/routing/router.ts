// Worker selection policy. One interface so KV-aware (prefix match over KV events)
// or load-aware (GetLoads) policies can be dropped in later without touching the
// dispatcher.
export interface RoutableWorker {
  readonly address: string;
  /** Generate calls this pool has open on the worker. */
  readonly inFlight: number;
  /** Prompt tokens of this pool's calls on the worker that have not produced a first frame yet. */
  readonly pendingPrefillTokens?: number;
  /** Last GetLoads snapshot (polled when the policy wants it). */
  readonly loads?: LoadSnapshot;
}

/** What we keep from GetLoads (wire §3.8): sums over DP ranks, mean token usage. */
export interface LoadSnapshot {
  /** performance.now() when received */
  at: number;
  running: number;
  waiting: number;
  waitingUncachedTokens: number;
  tokenUsage: number;
  /** the engine's prefix-cache hit rate, 0..1 (averaged over DP ranks) */
  cacheHitRate: number;
  genThroughput: number;
  maxTotalTokens: number;
}

export interface RouteRequest {
  requestId: string;
  model: string;
  /** Prompt token ids (what a prefix/KV-aware policy would match). */
  inputIds: readonly number[];
  /** Conversation key for session affinity (see routing/session-key.ts). */
  sessionKey?: string;
}

/** What a policy that watches workers (KV events) needs to know about one. */
export interface WatchedWorker {
  readonly address: string;
  readonly client: import("../workers/client.js").WorkerClient;
}

export interface Router {
  /** Picks one of `candidates` (ready workers serving the model, minus excluded ones), or undefined. */
  pick<W extends RoutableWorker>(candidates: readonly W[], req: RouteRequest): W | undefined;
  /** Policy name, for logs and metrics. */
  readonly name?: string;
  /** True if the registry should poll GetLoads for this policy. */
  readonly wantsLoads?: boolean;
  /** Uncached prompt tokens `address` would have to prefill for `req` (default: the whole prompt). */
  prefillEstimate?(address: string, req: RouteRequest): number;
  /** The request was dispatched to `worker` (e.g. record its prefix in an approximate index). */
  routed?(worker: RoutableWorker, req: RouteRequest): void;
  /** A call on `worker` finished; `ids` = prompt + generated ids now in its cache. */
  finished?(worker: RoutableWorker, req: RouteRequest, ids: readonly number[]): void;
  /** A worker joined the registry (start watching it) / left it. */
  workerAdded?(w: WatchedWorker): void;
  workerRemoved?(address: string): void;
  /** A GetLoads snapshot arrived for the worker. */
  loadsUpdated?(address: string, loads: LoadSnapshot): void;
  stop?(): void;
}

/** Join-shortest-queue on this pool's own in-flight counts; ties rotate so idle workers share load. */
export class LeastInFlightRouter implements Router {
  private turn = 0;

  pick<W extends RoutableWorker>(candidates: readonly W[]): W | undefined {
    if (candidates.length === 0) return undefined;
    const min = Math.min(...candidates.map((w) => w.inFlight));
    const best = candidates.filter((w) => w.inFlight === min);
    return best[this.turn++ % best.length];
  }
}
