// GetLoads polling: one snapshot per worker, for the router (load-aware policies) and
// for the metrics and the status page (telemetry/status/loads.ts reads the same snapshot).
import type { LoadSnapshot } from "../routing/router.js";
import type { WorkerEntry, Workers } from "./entry.js";

/** How long one GetLoads call may take at a given polling interval. */
export const loadsCallTimeoutMs = (intervalMs: number): number => Math.max(500, intervalMs);

export async function pollLoads(ws: Workers, w: WorkerEntry): Promise<void> {
  const r = await w.client.getLoads(loadsCallTimeoutMs(ws.opts.loadsIntervalMs));
  // An empty list means "no data" (wire §3.8); errors keep the last snapshot until it goes stale.
  if (!r.ok || r.value.loads.length === 0) return;
  const l = r.value.loads;
  const snap: LoadSnapshot = {
    at: performance.now(),
    running: l.reduce((a, x) => a + x.numRunningReqs, 0),
    waiting: l.reduce((a, x) => a + x.numWaitingReqs, 0),
    waitingUncachedTokens: l.reduce((a, x) => a + x.numWaitingUncachedTokens, 0),
    tokenUsage: l.reduce((a, x) => a + x.tokenUsage, 0) / l.length,
    cacheHitRate: l.reduce((a, x) => a + x.cacheHitRate, 0) / l.length,
    genThroughput: l.reduce((a, x) => a + x.genThroughput, 0),
    maxTotalTokens: l.reduce((a, x) => a + x.maxTotalNumTokens, 0),
  };
  w.loads = snap;
  ws.router.loadsUpdated?.(w.address, snap);
}

/** Polls every worker that answers probes (ready, or reachable but not serving: draining) once. */
export const pollReachableLoads = (ws: Workers): Promise<unknown> =>
  Promise.all(ws.workers.filter((w) => w.state === "ready" || w.state === "not_ready").map((w) => pollLoads(ws, w)));
