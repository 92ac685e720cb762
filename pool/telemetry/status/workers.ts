// A worker as the metrics and the status page show it. Reads the registry's
// entries defensively: routing and health handling evolve (draining, circuit
// breakers), and whatever extra state an entry carries is shown when present.
import type { WorkerEntry } from "../../workers/registry.js";

export interface WorkerView {
  address: string;
  model: string | null;
  /** the registry's state (starting, ready, not_ready, unreachable, ...) */
  state: string;
  /** circuit-breaker state when the registry tracks one ("closed", "open", "half_open"), else null */
  circuit: string | null;
  draining: boolean;
  /** takes new requests */
  up: boolean;
  inFlight: number;
}

export function describeWorker(w: WorkerEntry): WorkerView {
  const extra = w as unknown as Record<string, unknown>;
  const c = extra.circuit ?? extra.breaker; // pool/workers/circuit-breaker.ts, if the registry carries one
  const circuit =
    typeof c === "string" ? c : c && typeof c === "object" && typeof (c as { state?: unknown }).state === "string" ? (c as { state: string }).state : null;
  const draining = extra.draining === true || w.state === ("draining" as string);
  return {
    address: w.address,
    model: w.model ?? null,
    state: String(w.state),
    circuit,
    draining,
    up: w.state === "ready" && !draining && circuit !== "open",
    inFlight: w.inFlight,
  };
}

/** Every state a worker may be in, for the state-set gauge (unknown extra states are added as seen). */
export const KNOWN_WORKER_STATES = ["starting", "ready", "not_ready", "unreachable", "draining"];
