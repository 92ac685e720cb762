// Hung-worker watchdog: a worker with open calls that produced no frame on any of them
// for  max(minSilenceMs, gapFactor x its typical inter-frame gap)
//      + (prompt tokens awaiting their first frame) / prefillTokensPerS
// is suspected; one deep HealthCheck (timeout confirmMs) confirms it, then its calls are
// cancelled (and Aborted) and migrated. Detection bound = that silence + tickMs + confirmMs.
import { failCall } from "./calls.js";
import { stateChanged, type WorkerEntry, type Workers } from "./entry.js";

export interface HungOptions {
  minSilenceMs: number;
  gapFactor: number;
  /** A deliberately low estimate of the workers' prefill speed (a long prompt legitimately delays the first frame). */
  prefillTokensPerS: number;
  confirmMs: number;
  tickMs: number;
}

export const DEFAULT_HUNG: HungOptions = { minSilenceMs: 1_000, gapFactor: 20, prefillTokensPerS: 4_000, confirmMs: 1_000, tickMs: 100 };

/** Allowed silence for a worker with open calls before it is suspected hung. */
export function silenceAllowanceMs(h: HungOptions, w: WorkerEntry): number {
  let awaiting = 0;
  for (const c of w.calls) if (!c.gotFirstFrame) awaiting += c.prefillTokens;
  return Math.max(h.minSilenceMs, h.gapFactor * w.gapEwmaMs) + (awaiting * 1000) / h.prefillTokensPerS;
}

/** One watchdog tick: suspects get a deep HealthCheck; a failed one marks them hung. */
export function checkHung(ws: Workers): void {
  const now = performance.now();
  for (const w of ws.workers) {
    if (w.calls.size === 0 || w.probing || w.state === "hung") continue;
    if (now - w.lastProgressAt <= silenceAllowanceMs(ws.opts.hung, w)) continue;
    w.probing = true;
    const silentMs = now - w.lastProgressAt;
    ws.log.warn({ worker: w.address, silentMs: Math.round(silentMs), calls: w.calls.size }, "worker silent; confirming with HealthCheck");
    void w.client.healthCheck(ws.opts.hung.confirmMs).then((r) => {
      w.probing = false;
      if (r.ok && r.value.healthy) {
        w.lastProgressAt = performance.now(); // alive, just slow: give it another allowance
        return;
      }
      markHung(ws, w, r.ok ? r.value.message : r.error.message);
    });
  }
}

/** Confirmed hung: no new work, breaker open, open calls cancelled (+ Abort) and migrated. */
export function markHung(ws: Workers, w: WorkerEntry, why: string): void {
  const before = w.state;
  w.state = "hung";
  stateChanged(ws, w, before, why);
  w.breaker.trip();
  ws.events.emit("hung", w.address, performance.timeOrigin + performance.now());
  for (const c of [...w.calls]) failCall(c, `worker hung: ${why}`);
}
