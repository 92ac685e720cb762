// The seam between a RequestRun and the pool's telemetry (metrics, status
// page, access log): the run reports what happens to it; pool/telemetry.ts
// turns that into numbers. No-op by default, so RequestRun works without it.
import type { ResponseEvent } from "../../contract/queue/messages.js";
import type { ClaimedJob } from "../queue/client.js";

export interface RunTrace {
  /** The prompt is ready: `prepareMs` wall ms since the run began (thread queueing included), of which template and tokenize. */
  prepared(timing: { templateMs: number; tokenizeMs: number } | undefined, prepareMs: number): void;
  /** A Generate call for this request started on `worker`. */
  worker(worker: string): void;
  /** `n` output token ids arrived from `worker`. */
  tokens(worker: string, n: number): void;
  /** A Generate call failed (gRPC status name, message). */
  workerError(worker: string, code: string, message: string): void;
  /** Events were appended to the response stream (the terminal one included). */
  written(events: readonly ResponseEvent[]): void;
}

export interface RunObserver {
  /** A claimed job starts running; the run ends when the dispatcher emits "settled" (rid). */
  begin(claimed: ClaimedJob): RunTrace;
}

export const noRunTrace: RunTrace = { prepared() {}, worker() {}, tokens() {}, workerError() {}, written() {} };
