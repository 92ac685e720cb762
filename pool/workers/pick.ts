// Picking a worker for a call: ready, not draining, circuit allowing, serving
// the model; the Router chooses among those. waitReady lets a run wait for one.
import type { RouteRequest } from "../routing/router.js";
import type { WorkerEntry, Workers } from "./entry.js";

/** Ready, not draining, circuit allowing a call. */
export const usable = (w: WorkerEntry, model: string): boolean =>
  w.state === "ready" && !w.draining && w.model === model && w.breaker.allows();

/** Picks a ready worker for the model, avoiding `exclude` unless nothing else is ready. */
export function pick(ws: Workers, req: RouteRequest, exclude: ReadonlySet<string>): WorkerEntry | undefined {
  const ready = ws.workers.filter((w) => usable(w, req.model));
  const fresh = ready.filter((w) => !exclude.has(w.address));
  return ws.router.pick(fresh.length > 0 ? fresh : ready, req);
}

/** Resolves when some worker for the model is ready, or false after timeoutMs. */
export function waitReady(ws: Workers, model: string, timeoutMs: number): Promise<boolean> {
  const has = () => ws.workers.some((w) => usable(w, model));
  if (has()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (v: boolean) => {
      clearTimeout(t);
      ws.readyWaiters.delete(check);
      resolve(v);
    };
    const check = () => has() && done(true);
    const t = setTimeout(() => done(false), timeoutMs);
    ws.readyWaiters.add(check);
  });
}
