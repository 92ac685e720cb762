// Readiness probes: the served model (GetModelInfo, once), grpc.health.v1 Check
// every round, and after a confirmed hang only the deep HealthCheck clears it.
import { stateChanged, wakeReadyWaiters, type WorkerEntry, type WorkerState, type Workers } from "./entry.js";

export async function probe(ws: Workers, w: WorkerEntry): Promise<void> {
  if (w.removed) return;
  const before = w.state;
  if (w.state === "hung") {
    // grpc.health.v1 may still say SERVING for a frozen engine: only the deep probe clears it.
    const h = await w.client.healthCheck(ws.opts.hung.confirmMs * 2);
    if (!h.ok || !h.value.healthy) return;
    w.state = "not_ready";
  }
  if (w.model === undefined) {
    const info = await w.client.getModelInfo(2_000);
    if (!info.ok) {
      w.state = "unreachable";
      stateChanged(ws, w, before, info.error.message);
      return;
    }
    w.model = ws.modelAlias ?? (info.value.servedModelName || info.value.modelPath);
    w.eosTokenIds = info.value.eosTokenIds.filter((x) => x >= 0);
  }
  const r = await w.client.ready("", 2_000);
  if ((w.state as WorkerState) === "hung") return; // the watchdog confirmed a hang meanwhile
  w.state = r.ok ? (r.value ? "ready" : "not_ready") : "unreachable";
  stateChanged(ws, w, before, r.ok ? undefined : r.error.message);
  if (w.state === "ready") wakeReadyWaiters(ws);
}

/** A transport-level failure: stop routing to it until the next probe says otherwise. */
export function markFailed(ws: Workers, w: WorkerEntry): void {
  if (w.state === "ready") {
    w.state = "unreachable";
    ws.log.warn({ worker: w.address }, "worker marked unreachable after a failed call");
    void probe(ws, w);
  }
}
