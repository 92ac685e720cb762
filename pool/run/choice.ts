// One choice (of n) of a request: token ids -> text, with EOS and stop strings applied.
// Tokens are fed one at a time so the state after a token sequence does not depend
// on how the tokens were batched into frames or stream entries: a pool that resumes
// a request replays the recorded ids and reaches exactly the original pool's state.
import type { ModelTokenizer } from "../tokenizer/model-tokenizer.js";
import { IncrementalDecoder } from "./incremental-decoder.js";
import { StopMatcher } from "./stop-strings.js";

export type { FinishReason } from "../../contract/queue/messages.js";
import type { FinishReason } from "../../contract/queue/messages.js";

/** What a choice adds to the response stream (merged into chunk events by the writer). */
export interface ChoiceDelta {
  index: number;
  text: string;
  token_ids: number[];
  finish_reason: FinishReason | null;
}

export class ChoiceState {
  /** Ids received for this choice (what the worker generated, excluding a stripped EOS). */
  readonly tokenIds: number[] = [];
  finish: FinishReason | null = null;
  /** Tokens generated for usage (the worker's count, which includes a trimmed stop token). */
  generated = 0;
  /** Set when a gateway-side stop string ended the choice (the worker may not know yet). */
  stoppedLocally = false;
  private readonly decoder: IncrementalDecoder;
  private readonly matcher: StopMatcher;
  private readonly eos: ReadonlySet<number>;

  constructor(
    readonly index: number,
    tok: ModelTokenizer,
    stops: readonly string[],
  ) {
    this.decoder = new IncrementalDecoder({ decode: (ids) => tok.decode(ids, true) });
    this.matcher = new StopMatcher(stops);
    this.eos = new Set(tok.eosTokenIds);
  }

  /** Feeds generated ids. Returns the delta to send (null when nothing changed). */
  accept(ids: readonly number[]): ChoiceDelta | null {
    if (this.finish || ids.length === 0) return null;
    let text = "";
    const taken: number[] = [];
    for (const id of ids) {
      this.generated++;
      if (this.eos.has(id)) {
        // EOS the worker did not strip: the choice ends here, the id is not part of the text.
        text += this.end("stop");
        break;
      }
      taken.push(id);
      this.tokenIds.push(id);
      const r = this.matcher.push(this.decoder.push([id]));
      text += r.text;
      if (r.matched !== null) {
        this.finish = "stop";
        this.stoppedLocally = true;
        break;
      }
    }
    return { index: this.index, text, token_ids: taken, finish_reason: this.finish };
  }

  /**
   * The worker finished the choice (or the length budget is spent). A gateway stop
   * match already pinned "stop"; otherwise flush held-back text (trimming at the
   * worker's matched stop string, if any).
   */
  complete(reason: FinishReason, matchedStopStr?: string): ChoiceDelta | null {
    if (this.finish) return null;
    const text = this.end(reason, matchedStopStr);
    return { index: this.index, text, token_ids: [], finish_reason: this.finish };
  }

  private end(reason: FinishReason, matchedStopStr?: string): string {
    const r = this.matcher.push(this.decoder.flush());
    if (r.matched !== null) {
      this.finish = "stop";
      this.stoppedLocally = true;
      return r.text;
    }
    this.finish = reason;
    return r.text + this.matcher.flush(matchedStopStr);
  }
}
