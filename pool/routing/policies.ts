// Routing policies (ROUTING_POLICY): round_robin, load_aware, session, kv_aware
// (plus least_in_flight, the original join-shortest-queue). Each is a Router
// (workers/router.ts): it picks among the ready, circuit-closed, non-draining
// workers that serve the model; the registry calls its hooks around dispatch.
//
// "Load" is measured in prefill-token equivalents so it can be weighed against a
// cache hit (also tokens):
//   load(w) = queued prefill tokens (max of this pool's own calls awaiting a first
//             frame and the worker's num_waiting_uncached_tokens from GetLoads)
//           + decodeTokenCost x requests on it (max of our in-flight and GetLoads running+waiting)
//           + kvPressureTokens x k/(1-k), k = KV token usage (GetLoads)
// kv_aware minimises  cost(w) = (prompt - matched(w)) + alpha x load(w),
// i.e. score = matched - alpha x load: a hot prefix stops attracting requests once the
// worker holding it has more queued prefill than re-computing the prefix elsewhere
// would cost, so it spreads to other workers instead of overloading one.
import { LeastInFlightRouter, type LoadSnapshot, type RoutableWorker, type RouteRequest, type Router, type WatchedWorker } from "./router.js";
import { KvIndex, QueryHashes, DEFAULT_BLOCK_SIZE } from "./kv-index.js";
import { KvSubscriber } from "./kv-subscriber.js";

export const POLICIES = ["kv_aware", "load_aware", "session", "round_robin", "least_in_flight"] as const;
export type PolicyName = (typeof POLICIES)[number];

export interface RoutingOptions {
  policy: PolicyName;
  /** Weight of load against matched tokens in kv_aware. */
  kvAlpha: number;
  /** Token-equivalent cost of one request running or waiting on a worker. */
  decodeTokenCost: number;
  /** Token-equivalent of KV pressure k/(1-k). */
  kvPressureTokens: number;
  /** smg cache_aware imbalance guard: (max-min requests) > abs AND max > rel x min => least loaded. */
  balanceAbsThreshold: number;
  balanceRelThreshold: number;
  /** GetLoads snapshots older than this are ignored. */
  loadsStaleMs: number;
  /** Block size until a worker's KV events tell its own. */
  blockSize: number;
  /** Approximate-index bound per worker (blocks) until GetLoads tells the KV capacity. */
  approxCapacityBlocks: number;
  /** Subscribe to KV events (kv_aware); false = approximate index only. */
  kvEvents: boolean;
  /** Session affinity: idle sessions are forgotten after this. */
  sessionIdleMs: number;
  maxSessions: number;
}

export const DEFAULT_ROUTING: RoutingOptions = {
  policy: "kv_aware",
  kvAlpha: 1,
  decodeTokenCost: 32,
  kvPressureTokens: 1024,
  balanceAbsThreshold: 64,
  balanceRelThreshold: 1.5,
  loadsStaleMs: 5_000,
  blockSize: DEFAULT_BLOCK_SIZE,
  approxCapacityBlocks: 32_768,
  kvEvents: true,
  sessionIdleMs: 4 * 3600_000,
  maxSessions: 100_000,
};

function freshLoads(w: RoutableWorker, staleMs: number): LoadSnapshot | undefined {
  const l = w.loads;
  return l && performance.now() - l.at <= staleMs ? l : undefined;
}

/** Requests on the worker as far as we know (ours, or what GetLoads reported if more). */
export function requestsOn(w: RoutableWorker, o: Pick<RoutingOptions, "loadsStaleMs">): number {
  const l = freshLoads(w, o.loadsStaleMs);
  return Math.max(w.inFlight, l ? l.running + l.waiting : 0);
}

/** The load formula above, in prefill-token equivalents. */
export function loadTokens(w: RoutableWorker, o: Pick<RoutingOptions, "decodeTokenCost" | "kvPressureTokens" | "loadsStaleMs">): number {
  const l = freshLoads(w, o.loadsStaleMs);
  const prefill = Math.max(w.pendingPrefillTokens ?? 0, l?.waitingUncachedTokens ?? 0);
  const k = Math.min(0.999, Math.max(0, l?.tokenUsage ?? 0));
  return prefill + o.decodeTokenCost * requestsOn(w, o) + o.kvPressureTokens * (k / (1 - k));
}

/** Index of the minimum of `score`; ties rotate with `turn` so idle workers share load. */
function argmin<W>(items: readonly W[], score: (w: W) => number, turn: number): W | undefined {
  if (items.length === 0) return undefined;
  const s = items.map(score);
  const min = Math.min(...s);
  const best = items.filter((_, i) => s[i] <= min + 1e-9);
  return best[turn % best.length];
}

export class RoundRobinRouter implements Router {
  readonly name = "round_robin";
  private turn = 0;
  pick<W extends RoutableWorker>(candidates: readonly W[]): W | undefined {
    if (candidates.length === 0) return undefined;
    // Stable order so the rotation does not depend on the candidates' order.
    const sorted = [...candidates].sort((a, b) => (a.address < b.address ? -1 : 1));
    return sorted[this.turn++ % sorted.length];
  }
}

export class LoadAwareRouter implements Router {
  readonly name = "load_aware";
  readonly wantsLoads = true;
  private turn = 0;
  constructor(private readonly o: RoutingOptions = DEFAULT_ROUTING) {}
  pick<W extends RoutableWorker>(candidates: readonly W[], req: RouteRequest): W | undefined {
    // The incoming request's own prefill is the same everywhere: compare loads only.
    void req;
    return argmin(candidates, (w) => loadTokens(w, this.o), this.turn++);
  }
}

/**
 * Sticky sessions (smg `manual` with min_load assignment): the first request of a
 * conversation goes to the least-loaded worker; later ones follow it while it is a
 * candidate (ready, circuit closed, not draining); otherwise the session moves.
 */
export class SessionRouter implements Router {
  readonly name = "session";
  readonly wantsLoads = true;
  private turn = 0;
  /** key -> { address, last use }, least recently used first. */
  private readonly sessions = new Map<string, { address: string; at: number }>();
  constructor(private readonly o: RoutingOptions = DEFAULT_ROUTING) {}

  pick<W extends RoutableWorker>(candidates: readonly W[], req: RouteRequest): W | undefined {
    const s = req.sessionKey ? this.sessions.get(req.sessionKey) : undefined;
    if (s && performance.now() - s.at <= this.o.sessionIdleMs) {
      const w = candidates.find((c) => c.address === s.address);
      if (w) return w;
    }
    return argmin(candidates, (w) => loadTokens(w, this.o), this.turn++);
  }

  routed(worker: RoutableWorker, req: RouteRequest): void {
    if (!req.sessionKey) return;
    this.sessions.delete(req.sessionKey);
    this.sessions.set(req.sessionKey, { address: worker.address, at: performance.now() });
    while (this.sessions.size > this.o.maxSessions) this.sessions.delete(this.sessions.keys().next().value as string);
  }

  /** The worker a session is bound to (tests). */
  boundTo(key: string): string | undefined {
    return this.sessions.get(key)?.address;
  }

  workerRemoved(address: string): void {
    for (const [k, v] of this.sessions) if (v.address === address) this.sessions.delete(k);
  }
}

export interface KvPick {
  address: string;
  matched: number;
  source: "events" | "approx";
  load: number;
  cost: number;
}

/** Cache-aware: KV-event index per worker (approximate index when a worker has no events), balanced against load. */
export class KvAwareRouter implements Router {
  readonly name = "kv_aware";
  readonly wantsLoads = true;
  readonly index: KvIndex;
  readonly subscribers = new Map<string, KvSubscriber>();
  private turn = 0;
  private last: { req: RouteRequest; q: QueryHashes; scores: KvPick[] } | undefined;

  constructor(private readonly o: RoutingOptions = DEFAULT_ROUTING) {
    this.index = new KvIndex({ defaultBlockSize: o.blockSize, approxCapacityBlocks: o.approxCapacityBlocks });
  }

  private query(req: RouteRequest): QueryHashes {
    if (this.last?.req === req) return this.last.q;
    return new QueryHashes(req.inputIds);
  }

  /** Scores every candidate (exposed for tests and logs). */
  score<W extends RoutableWorker>(candidates: readonly W[], req: RouteRequest): KvPick[] {
    const q = this.query(req);
    const len = req.inputIds.length;
    return candidates.map((w) => {
      const m = this.index.match(w.address, q);
      const load = loadTokens(w, this.o);
      return { address: w.address, matched: m.tokens, source: m.source, load, cost: len - m.tokens + this.o.kvAlpha * load };
    });
  }

  pick<W extends RoutableWorker>(candidates: readonly W[], req: RouteRequest): W | undefined {
    if (candidates.length === 0) return undefined;
    const q = this.query(req);
    const scores = this.score(candidates, req);
    this.last = { req, q, scores };
    const reqs = candidates.map((w) => requestsOn(w, this.o));
    const max = Math.max(...reqs);
    const min = Math.min(...reqs);
    const turn = this.turn++;
    if (max - min > this.o.balanceAbsThreshold && max > this.o.balanceRelThreshold * Math.max(1, min)) {
      // Imbalanced: least loaded, whatever the cache says (smg cache_aware).
      return argmin(candidates, (w) => scores[candidates.indexOf(w)].load, turn);
    }
    return argmin(candidates, (w) => {
      const s = scores[candidates.indexOf(w)];
      // Ties on cost: lower load first.
      return s.cost + s.load * 1e-6;
    }, turn);
  }

  /** Uncached prompt tokens the worker has to prefill for this request (for its pending-prefill load). */
  prefillEstimate(address: string, req: RouteRequest): number {
    const s = this.last?.req === req ? this.last.scores.find((x) => x.address === address) : undefined;
    const matched = s ? s.matched : this.index.match(address, this.query(req)).tokens;
    return Math.max(0, req.inputIds.length - matched);
  }

  // The approximate index is only fed for workers without a live event stream (it costs
  // a hash pass over the prompt): with events, the worker tells us what it holds.
  routed(worker: RoutableWorker, req: RouteRequest): void {
    if (!this.index.isLive(worker.address)) this.index.recordSent(worker.address, this.query(req));
  }

  finished(worker: RoutableWorker, _req: RouteRequest, ids: readonly number[]): void {
    if (!this.index.isLive(worker.address)) this.index.recordSent(worker.address, new QueryHashes(ids));
  }

  workerAdded(w: WatchedWorker): void {
    if (!this.o.kvEvents || this.subscribers.has(w.address)) return;
    const sub = new KvSubscriber(w.address, w.client, this.index);
    this.subscribers.set(w.address, sub);
    sub.start();
  }

  workerRemoved(address: string): void {
    this.subscribers.get(address)?.stop();
    this.subscribers.delete(address);
    this.index.remove(address);
  }

  loadsUpdated(address: string, loads: LoadSnapshot): void {
    if (loads.maxTotalTokens > 0) this.index.setApproxCapacity(address, Math.ceil(loads.maxTotalTokens / this.index.blockSizeOf(address)));
  }

  stop(): void {
    for (const s of this.subscribers.values()) s.stop();
    this.subscribers.clear();
  }
}

export function createRouter(o: RoutingOptions): Router {
  switch (o.policy) {
    case "kv_aware":
      return new KvAwareRouter(o);
    case "load_aware":
      return new LoadAwareRouter(o);
    case "session":
      return new SessionRouter(o);
    case "round_robin":
      return new RoundRobinRouter();
    case "least_in_flight":
      return new LeastInFlightRouter();
  }
}
