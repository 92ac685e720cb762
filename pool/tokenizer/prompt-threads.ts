// A small pool of tokenization threads per model (prompt-thread.ts): chat template
// render + encode off the event loop, so one tenant's huge prompt cannot stall
// every other request's tokens. Jobs of one conversation go to the same thread
// (its segment cache then holds that conversation's history); a busy thread's
// work spills to the least loaded one. A thread that dies is replaced and its
// pending requests get an error at once, never a hang.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { Job } from "../../contract/queue/messages.js";
import { err, type Result } from "../../contract/result.js";
import type { Prompt, PromptError } from "../run/prompt.js";
import type { PromptBoundsData } from "../../contract/prompt-bounds.js";
import type { ThreadInit, ThreadJob } from "./prompt-thread.js";

/**
 * The thread's module: compiled (the deploy images run dist/*.js, without tsx) it is
 * loaded as is; from the TypeScript sources, through a bootstrap that registers tsx.
 */
const THREAD_ENTRY = import.meta.url.endsWith(".js")
  ? new URL("./prompt-thread.js", import.meta.url)
  : new URL("./prompt-thread-entry.mjs", import.meta.url);

export type ThreadResult = Result<Prompt, PromptError | { code: "tokenizer_failed"; message: string }>;

export function defaultTokenizerThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, (r: ThreadResult) => void>;
  stats: { hits: number; misses: number };
}

export class PromptThreads {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  /** threads started to replace dead ones */
  replaced = 0;
  private retired = { hits: 0, misses: 0 };

  constructor(
    private readonly init: ThreadInit,
    readonly size: number,
    private readonly log?: Logger,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  static create(files: ReadonlyMap<string, Uint8Array>, extraEosIds: readonly number[], boundsData: PromptBoundsData, size: number, log?: Logger) {
    return new PromptThreads({ files: [...files], extraEosIds: [...extraEosIds], boundsData }, size, log);
  }

  /** Resolves once every thread has loaded the tokenizer. */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  private spawn(): Slot {
    // execArgv: [] — the entry registers tsx itself (inheriting `--import tsx` would load it twice).
    const worker = new Worker(THREAD_ENTRY, { workerData: this.init, execArgv: [] });
    worker.unref();
    const slot: Slot = { worker, ready: Promise.resolve(), pending: new Map(), stats: { hits: 0, misses: 0 } };
    slot.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: { ready?: boolean; id?: number; result?: ThreadResult; stats?: Slot["stats"] }) => {
        if (m.ready) return resolve();
        if (m.stats) slot.stats = m.stats;
        const done = m.id === undefined ? undefined : slot.pending.get(m.id);
        if (done) {
          slot.pending.delete(m.id!);
          done(m.result!);
        }
      };
      worker.on("message", onMessage);
      const dead = (why: string) => {
        reject(new Error(why));
        this.replace(slot, why);
      };
      worker.on("error", (e) => dead(`tokenization thread failed: ${e.message}`));
      worker.on("exit", (code) => dead(`tokenization thread exited (code ${code})`));
    });
    slot.ready.catch(() => {});
    return slot;
  }

  private replace(slot: Slot, why: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return; // already replaced (error then exit)
    this.retired.hits += slot.stats.hits;
    this.retired.misses += slot.stats.misses;
    for (const done of slot.pending.values()) done(err({ code: "tokenizer_failed", message: why }));
    slot.pending.clear();
    if (this.closed) {
      this.slots.splice(i, 1);
      return;
    }
    this.log?.error({ why }, "tokenization thread died; starting another");
    this.replaced++;
    this.slots[i] = this.spawn();
  }

  /** Renders and encodes `job`'s prompt on a thread (prompt.ts renderPrompt). */
  prepare(job: Job, contextLength: number | undefined): Promise<ThreadResult> {
    if (this.closed || this.slots.length === 0) return Promise.resolve(err({ code: "tokenizer_failed", message: "tokenization threads are closed" }));
    const slot = this.pick(job);
    const id = this.nextId++;
    return new Promise<ThreadResult>((resolve) => {
      slot.pending.set(id, resolve);
      const msg: ThreadJob = { id, job, contextLength };
      slot.worker.postMessage(msg);
    });
  }

  /** The conversation's thread unless it is much busier than the least busy one. */
  private pick(job: Job): Slot {
    const first = job.messages?.[0]?.content ?? job.prompt ?? "";
    let h = 2166136261;
    const key = `${job.messages?.length ? (job.messages[0].role ?? "") : ""}${first.slice(0, 512)}`;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
    const home = this.slots[(h >>> 0) % this.slots.length];
    let least = home;
    for (const s of this.slots) if (s.pending.size < least.pending.size) least = s;
    return home.pending.size > least.pending.size + 1 ? least : home;
  }

  /** Segment cache hits and misses over every thread (dead ones included). */
  cacheStats(): { hits: number; misses: number } {
    return this.slots.reduce((a, s) => ({ hits: a.hits + s.stats.hits, misses: a.misses + s.stats.misses }), { ...this.retired });
  }

  /** Tests: kill one thread as a crash would. */
  crashForTest(index = 0): Promise<number> {
    return this.slots[index].worker.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.slots].map((s) => s.worker.terminate()));
  }
}
