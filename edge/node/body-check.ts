// Large request bodies are checked off the event loop: threads parse them, build the
// internal request as the route would and bound the prompt against the model's context
// (edge/node/body-check-thread.ts). A refusal (a 1 MB prompt for a 32k model, bad JSON)
// then costs the event loop nothing, so a tenant sending many of them does not delay
// every other request's admission and tokens. A body that passes is parsed again on
// the event loop by its route: the thread's objects would cost as much to copy back as
// to parse, and a body that fits the context is rare at these sizes and is about to be
// tokenized by a pool anyway.
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import type { BodyChecker } from "../api/read-json.js";
import type { BodyKind } from "../api/body-requests.js";
import { EdgeError } from "../errors.js";
import type { ServedModel } from "../models.js";
import type { BodyCheckTask, BodyCheckVerdict, ModelLimits } from "./body-check-thread.js";

/** Compiled (deploy images run dist/*.js) the thread module loads as is; from the sources, through a tsx bootstrap. */
const THREAD_ENTRY = import.meta.url.endsWith(".js")
  ? new URL("./body-check-thread.js", import.meta.url).href
  : new URL("./body-check-entry.mjs", import.meta.url).href;

/** bodies waiting for a thread, per thread, before new ones are refused with a retryable 503 */
const QUEUE_PER_THREAD = 16;

export function defaultBodyCheckThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

export class ThreadBodyChecker implements BodyChecker {
  private readonly pool: Piscina<BodyCheckTask, BodyCheckVerdict>;
  /** bodies a thread refused (for tests and metrics) */
  refused = 0;
  /** checks whose thread threw or died, left to the route (for tests and metrics) */
  failed = 0;

  constructor(
    threads: number,
    readonly minBytes: number,
    /** the threads' module (tests give one that holds or fails its tasks) */
    entry = THREAD_ENTRY,
  ) {
    this.pool = new Piscina({ filename: entry, minThreads: threads, maxThreads: threads, maxQueue: threads * QUEUE_PER_THREAD, idleTimeout: Infinity });
  }

  /**
   * Resolves once every thread has loaded and run the check once, so the edge reports
   * ready after them (a thread still compiling would otherwise compete with the first
   * requests for the CPU).
   */
  async warm(): Promise<void> {
    const body = new TextEncoder().encode(JSON.stringify({ model: "warm-up", messages: [{ role: "user", content: "hi" }] }));
    await Promise.all(this.pool.threads.map(() => this.pool.run({ kind: "chat", bytes: body, models: [] })));
  }

  async check(kind: BodyKind, bytes: Uint8Array, models: readonly ServedModel[]): Promise<void> {
    const limits: ModelLimits[] = models.map((m) => ({ id: m.id, contextLength: m.contextLength, maxTokenBytes: m.maxTokenBytes, boundsData: m.boundsData }));
    let verdict: BodyCheckVerdict;
    try {
      // a copy goes to the thread: the route parses the original if the body passes
      verdict = await this.pool.run({ kind, bytes, models: limits });
    } catch (err) {
      if ((err as Error).message.includes("queue is at limit")) {
        throw new EdgeError("service_unavailable", "This edge is busy checking other large requests; retry shortly.", { retryAfterS: 1 });
      }
      this.failed++;
      return; // a thread failed: the route decides on the event loop, as without threads
    }
    if (verdict.error) {
      this.refused++;
      throw new EdgeError(verdict.error.code, verdict.error.message, { param: verdict.error.param });
    }
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
