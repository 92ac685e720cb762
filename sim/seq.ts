// One sequence in the simulated engine: its prompt, its generation, how much of
// the prompt's KV is computed, and the sink that receives its tokens.
import type { KvSeq } from "./kv-cache.js";
import type { Generation } from "./text-model.js";

/** Receives a sequence's tokens at the end of each step that produced some. */
export interface SeqSink {
  /** `ids` are this step's new tokens (usually 1); `seq.gen.finish` is set on the last call. */
  onTokens(seq: Seq, ids: number[]): void;
}

export type SeqState = "waiting" | "prefill" | "decode" | "done";

export class Seq {
  state: SeqState = "waiting";
  /** Prompt tokens whose KV is computed (cached prefix included). */
  computed = 0;
  cachedTokens = 0;
  kv: KvSeq | null = null;
  /** Prompt tokens scheduled for prefill in the current step. */
  planned = 0;
  /** Uncached prompt tokens estimated at submit (for GetLoads). */
  readonly estimatedUncached: number;
  readonly maxTotalTokens: number;
  readonly tokenAt = (i: number): number =>
    i < this.prompt.length ? this.prompt[i] : this.gen.output[i - this.prompt.length];

  constructor(
    readonly rid: string,
    readonly prompt: readonly number[],
    readonly gen: Generation,
    readonly sink: SeqSink,
    estimatedUncached: number,
    maxTotalTokens: number,
  ) {
    this.estimatedUncached = estimatedUncached;
    this.maxTotalTokens = maxTotalTokens;
  }
}
