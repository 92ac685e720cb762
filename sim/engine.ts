// Continuous-batching engine model: one scheduler loop per engine (one timer
// per step, never one per token or per request), like a real GPU scheduler:
//
//   each step:  admit waiting sequences (FIFO) while running < maxRunning and
//               the KV cache can reserve their pages;
//               prefill up to `prefillChunk` uncached prompt tokens (chunked
//               prefill, so a long prompt does not stall everyone's decode);
//               decode one token for every sequence past prefill;
//   duration:   prefill tokens / prefillTokensPerS
//               + (decodeMsPerToken + decodeMsPerRunning * running) if anyone decodes,
//               times the fault-injected slowdown factor.
//
// Results of a step are applied when its timer fires: a sequence whose prefill
// completes gets its first token, every decoding sequence gets one token, and
// the KV events recorded during the step are published as one batch.
import { EventEmitter } from "node:events";
import { KvCache, type KvEvent } from "./kv-cache.js";
import { Generation, type GenParams, type TextModel } from "./text-model.js";
import { Seq, type SeqSink } from "./seq.js";
import type { EngineOptions } from "./engine-options.js";

export { Seq, type SeqSink, type SeqState } from "./seq.js";

export { DEFAULT_ENGINE_OPTIONS, type EngineOptions } from "./engine-options.js";

export interface KvBatch {
  sequenceNumber: bigint;
  /** Seconds since the epoch. */
  timestamp: number;
  events: KvEvent[];
}

/** Sliding window for gen_throughput. */
const THROUGHPUT_WINDOW_MS = 10_000;

/**
 * Emits "kv" (KvBatch) after every step that changed the cache, "idle" when the
 * loop stops with nothing to do.
 */
export class Engine extends EventEmitter {
  readonly cache: KvCache;
  private readonly waiting: Seq[] = [];
  private readonly running = new Set<Seq>();
  private readonly byRid = new Map<string, Seq>();
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** Intended end time of the previous step, to keep step cadence free of timer drift. */
  private lastTarget = 0;
  private stepPrefill: Seq[] = [];
  private stepDecode: Seq[] = [];
  private kvSequence = 0n;
  private stopped = false;
  private hung = false;
  slowdown = 1;
  /** performance.now() of the last step that produced output. */
  lastProgressAt = performance.now();
  private readonly produced: { t: number; n: number }[] = [];
  private promptTokensTotal = 0;
  private cachedTokensTotal = 0;

  constructor(
    readonly model: TextModel,
    readonly opts: EngineOptions,
  ) {
    super();
    this.cache = new KvCache(opts.kvCapacityTokens, opts.blockSize);
  }

  /** Longest context a sequence may reach: the model window, bounded by what the KV cache can hold. */
  get contextLimit(): number {
    return Math.min(this.opts.maxContextLength, this.cache.capacityTokens);
  }

  has(rid: string): boolean {
    return this.byRid.has(rid);
  }

  /** Queues a sequence. The caller has validated the prompt (non-empty, shorter than contextLimit) and rid uniqueness. */
  submit(rid: string, prompt: readonly number[], params: GenParams, sink: SeqSink): Seq {
    const limit = this.contextLimit;
    const gen = new Generation(this.model, prompt, { ...params, maxContextLength: Math.min(params.maxContextLength ?? limit, limit) });
    const maxTotal = Math.min(prompt.length + Math.max(params.maxNewTokens, 1), limit);
    const seq = new Seq(rid, prompt, gen, sink, prompt.length - this.cache.peekCachedTokens(prompt), maxTotal);
    this.waiting.push(seq);
    this.byRid.set(rid, seq);
    this.kick();
    return seq;
  }

  /** Removes a sequence at once (cancel/abort/fault) and frees its pages. Returns false if it was already gone. */
  remove(seq: Seq): boolean {
    if (seq.state === "done") return false;
    if (seq.state === "waiting") {
      const i = this.waiting.indexOf(seq);
      if (i >= 0) this.waiting.splice(i, 1);
    }
    this.retire(seq);
    return true;
  }

  /** In-flight sequences whose rid is `rid` or `rid-n<digits>` (the servicer's n>1 children). */
  findFamily(rid: string): Seq[] {
    const out: Seq[] = [];
    const exact = this.byRid.get(rid);
    if (exact) out.push(exact);
    const prefix = `${rid}-n`;
    for (const [id, seq] of this.byRid) {
      if (id.length > prefix.length && id.startsWith(prefix) && /^\d+$/.test(id.slice(prefix.length))) out.push(seq);
    }
    return out;
  }

  /** Freezes the scheduler (fault injection): no step completes until hang(false). */
  setHung(on: boolean): void {
    this.hung = on;
    if (on) this.cancelTimer();
    else this.kick();
  }

  get isHung(): boolean {
    return this.hung;
  }

  /** Clears the prefix cache; fails while any request is in flight (the real engine has no wait-for-idle). */
  flush(): boolean {
    if (this.byRid.size > 0) return false;
    const ok = this.cache.flush();
    if (ok) this.publishKv();
    return ok;
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer();
  }

  stats() {
    const kv = this.cache.stats();
    const bs = this.opts.blockSize;
    let waitingUncached = 0;
    for (const s of this.waiting) waitingUncached += s.estimatedUncached;
    return {
      running: this.running.size,
      waiting: this.waiting.length,
      /** Tokens currently held in the prefix cache (shareable full blocks). */
      cachedTokens: kv.cachedBlocks * bs,
      usedTokens: kv.usedBlocks * bs,
      maxTotalTokens: kv.totalBlocks * bs,
      tokenUsage: kv.usedBlocks / kv.totalBlocks,
      waitingUncachedTokens: waitingUncached,
      genThroughput: this.genThroughput(),
      cacheHitRate: this.promptTokensTotal ? this.cachedTokensTotal / this.promptTokensTotal : 0,
      kv,
      kvSequence: this.kvSequence,
      hung: this.hung,
      slowdown: this.slowdown,
    };
  }

  private genThroughput(): number {
    const now = performance.now();
    while (this.produced.length && now - this.produced[0].t > THROUGHPUT_WINDOW_MS) this.produced.shift();
    if (!this.produced.length) return 0;
    let n = 0;
    for (const p of this.produced) n += p.n;
    const span = Math.max(1000, now - this.produced[0].t);
    return (n * 1000) / span;
  }

  private cancelTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = null;
    }
  }

  /** Starts the loop if idle; deferred to setImmediate so submissions of one tick share a step. */
  private kick(): void {
    if (this.timer || this.stopped || this.hung) return;
    this.timer = setImmediate(() => {
      this.timer = null;
      this.plan();
    });
  }

  private retire(seq: Seq): void {
    seq.state = "done";
    this.running.delete(seq);
    if (this.byRid.get(seq.rid) === seq) this.byRid.delete(seq.rid);
    if (seq.kv) this.cache.release(seq.kv);
    seq.kv = null;
  }

  /** Admits what fits and schedules the next step's completion. */
  private plan(): void {
    if (this.stopped || this.hung) return;
    while (this.waiting.length && this.running.size < this.opts.maxRunning) {
      const s = this.waiting[0];
      const kv = this.cache.admit(s.prompt, s.maxTotalTokens);
      if (!kv) break; // head-of-line: wait for pages to free up
      this.waiting.shift();
      s.kv = kv;
      s.cachedTokens = kv.cachedTokens;
      s.computed = kv.cachedTokens;
      s.state = "prefill";
      this.running.add(s);
      this.promptTokensTotal += s.prompt.length;
      this.cachedTokensTotal += s.cachedTokens;
    }
    let budget = this.opts.prefillChunk;
    let prefillTokens = 0;
    this.stepPrefill = [];
    this.stepDecode = [];
    for (const s of this.running) {
      if (s.state === "prefill") {
        if (budget <= 0) continue;
        s.planned = Math.min(budget, s.prompt.length - s.computed);
        budget -= s.planned;
        prefillTokens += s.planned;
        this.stepPrefill.push(s);
      } else if (s.state === "decode") {
        this.stepDecode.push(s);
      }
    }
    if (!this.stepPrefill.length && !this.stepDecode.length) {
      this.lastTarget = 0;
      this.emit("idle");
      return;
    }
    let ms = (prefillTokens / this.opts.prefillTokensPerS) * 1000;
    if (this.stepDecode.length) ms += this.opts.decodeMsPerToken + this.opts.decodeMsPerRunning * this.running.size;
    ms *= this.slowdown;
    const now = performance.now();
    // Chain step deadlines so timer lateness does not accumulate, unless we fell far behind.
    const start = this.lastTarget && now - this.lastTarget < 20 ? this.lastTarget : now;
    this.lastTarget = start + ms;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.complete();
    }, Math.max(0, this.lastTarget - now));
  }

  /** Applies the planned step: finishes prefills, decodes one token per running sequence. */
  private complete(): void {
    if (this.stopped || this.hung) return;
    let tokens = 0;
    for (const s of this.stepPrefill) {
      if (s.state !== "prefill") continue; // removed during the step
      s.computed += s.planned;
      this.cache.sync(s.kv!, s.computed, s.tokenAt);
      if (s.computed >= s.prompt.length) {
        s.state = "decode";
        tokens += this.emitToken(s);
      }
    }
    for (const s of this.stepDecode) {
      if (s.state !== "decode") continue;
      tokens += this.emitToken(s);
    }
    if (tokens) {
      const now = performance.now();
      this.lastProgressAt = now;
      this.produced.push({ t: now, n: tokens });
    }
    this.publishKv();
    this.plan();
  }

  private emitToken(s: Seq): number {
    const ids: number[] = [];
    if (!s.gen.finish) {
      ids.push(s.gen.step());
      this.cache.sync(s.kv!, s.prompt.length + s.gen.output.length, s.tokenAt);
    }
    // Retire before notifying so observers see consistent stats when the final frame arrives.
    if (s.gen.finish) this.retire(s);
    s.sink.onTokens(s, ids);
    return ids.length;
  }

  private publishKv(): void {
    const events = this.cache.takeEvents();
    if (!events.length) return;
    const batch: KvBatch = { sequenceNumber: ++this.kvSequence, timestamp: Date.now() / 1000, events };
    this.emit("kv", batch);
  }

  /** Count of in-flight sequences (waiting + running). */
  get inFlight(): number {
    return this.byRid.size;
  }
}
