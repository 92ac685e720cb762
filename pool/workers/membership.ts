// Membership: workers join (configured or discovered at run time), leave
// (after their open streams, or at once with them migrated), and drain.
import { CircuitBreaker } from "./circuit-breaker.js";
import { WorkerClient } from "./client.js";
import { find, wakeReadyWaiters, type WorkerEntry, type Workers } from "./entry.js";
import { failCall } from "./calls.js";

/** Adds a worker (no-op if known; a discovered worker that re-registers stops draining). */
export function addWorker(ws: Workers, address: string, source: "config" | "discovered"): { entry: WorkerEntry; isNew: boolean } {
  const known = find(ws, address);
  if (known) {
    if (known.draining && source === "discovered" && known.source === "discovered") drainWorker(ws, address, false);
    return { entry: known, isNew: false };
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
  w.breaker = new CircuitBreaker(ws.opts.breaker, (from, to) => {
    ws.log.warn({ worker: w.address, from, to }, "circuit breaker");
    ws.events.emit("breaker", w.address, from, to);
  });
  ws.workers.push(w);
  ws.router.workerAdded?.(w);
  ws.events.emit("added", address);
  return { entry: w, isNew: true };
}

/**
 * Removes a worker: it gets no new work at once; open streams finish (graceful)
 * or are cancelled and migrated (graceful=false, e.g. it is known dead).
 */
export function removeWorker(ws: Workers, address: string, graceful: boolean): void {
  const w = find(ws, address);
  if (!w || w.removed) return;
  w.removed = true;
  w.draining = true;
  if (!graceful) for (const c of [...w.calls]) failCall(c, "worker removed");
  const finish = () => {
    const i = ws.workers.indexOf(w);
    if (i >= 0) ws.workers.splice(i, 1);
    ws.router.workerRemoved?.(address);
    w.client.close();
    ws.events.emit("removed", address);
    ws.log.info({ worker: address }, "worker removed");
  };
  if (w.calls.size === 0) finish();
  else {
    const onIdle = (a: string) => {
      if (a !== address || w.calls.size > 0) return;
      ws.events.off("idle", onIdle);
      finish();
    };
    ws.events.on("idle", onIdle);
  }
}

/** Draining: no new work for the worker; its open streams finish normally. */
export function drainWorker(ws: Workers, address: string, on: boolean): boolean {
  const w = find(ws, address);
  if (!w || w.removed || w.draining === on) return !!w;
  w.draining = on;
  ws.log.info({ worker: address, draining: on }, "worker draining");
  ws.events.emit("draining", address, on);
  if (!on) wakeReadyWaiters(ws);
  return true;
}
