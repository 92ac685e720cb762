// Every Generate call is tracked: its worker's breaker, routing load
// (in flight, prefill tokens awaiting a first frame) and the hung watchdog's
// progress clock all follow from begin / frame / end.
import type { RouteRequest } from "../routing/router.js";
import type { CallOutcome, CallTrack, WorkerEntry, Workers } from "./entry.js";

/** A Generate call is about to be sent to `w` for `req`. Abort `track.abort` to cancel it. */
export function beginCall(ws: Workers, w: WorkerEntry, req: RouteRequest, parent: AbortSignal): CallTrack {
  const abort = new AbortController();
  if (parent.aborted) abort.abort();
  else parent.addEventListener("abort", () => abort.abort(), { once: true });
  const now = performance.now();
  if (w.calls.size === 0) w.lastProgressAt = now;
  const track: CallTrack = {
    worker: w,
    abort,
    workerFailure: undefined,
    prefillTokens: ws.router.prefillEstimate?.(w.address, req) ?? req.inputIds.length,
    gotFirstFrame: false,
    lastFrameAt: now,
  };
  w.calls.add(track);
  w.inFlight++;
  w.pendingPrefillTokens += track.prefillTokens;
  w.breaker.dispatched();
  ws.router.routed?.(w, req);
  return track;
}

/** A frame arrived on the call. */
export function frame(track: CallTrack): void {
  const now = performance.now();
  const w = track.worker;
  if (!track.gotFirstFrame) {
    track.gotFirstFrame = true;
    w.pendingPrefillTokens = Math.max(0, w.pendingPrefillTokens - track.prefillTokens);
    w.breaker.success(); // smg records the outcome when Generate returns its headers
  } else {
    const gap = now - track.lastFrameAt;
    w.gapEwmaMs = w.gapEwmaMs === 0 ? gap : 0.9 * w.gapEwmaMs + 0.1 * gap;
  }
  track.lastFrameAt = now;
  w.lastProgressAt = now;
}

/** The call ended. failure = a retryable error (counts against the breaker). */
export function endCall(ws: Workers, track: CallTrack, outcome: CallOutcome, req?: RouteRequest, cachedIds?: readonly number[]): void {
  const w = track.worker;
  if (!w.calls.delete(track)) return;
  w.inFlight--;
  if (!track.gotFirstFrame) w.pendingPrefillTokens = Math.max(0, w.pendingPrefillTokens - track.prefillTokens);
  if (outcome === "failure" && !track.workerFailure) w.breaker.failure();
  else if (outcome === "ok" && !track.gotFirstFrame) w.breaker.success();
  else if (outcome === "neutral" && !track.gotFirstFrame) w.breaker.released();
  if (outcome === "ok" && req && cachedIds) ws.router.finished?.(w, req, cachedIds);
  if (w.calls.size === 0) ws.events.emit("idle", w.address);
}

/** The registry ends a call because of its worker (hung, removed): the run migrates it. */
export function failCall(c: CallTrack, why: string): void {
  if (c.workerFailure) return;
  c.workerFailure = why;
  c.abort.abort();
}
