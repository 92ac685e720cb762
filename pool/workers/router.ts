// Worker selection policy. One interface so KV-aware (prefix match over KV events)
// or load-aware (GetLoads) policies can be dropped in later without touching the
// dispatcher.
export interface RoutableWorker {
  readonly address: string;
  /** Generate calls this pool has open on the worker. */
  readonly inFlight: number;
}

export interface RouteRequest {
  requestId: string;
  model: string;
  /** Prompt token ids (what a prefix/KV-aware policy would match). */
  inputIds: readonly number[];
}

export interface Router {
  /** Picks one of `candidates` (ready workers serving the model, minus excluded ones), or undefined. */
  pick<W extends RoutableWorker>(candidates: readonly W[], req: RouteRequest): W | undefined;
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
