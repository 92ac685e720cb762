// One choice (of n) of a request: token ids -> the choice's events: content
// text, reasoning, tool-call pieces and logprobs, with EOS and stop strings
// applied. Tokens are fed one at a time so the state after a token sequence
// does not depend on how the tokens were batched into frames or stream
// entries: a pool that resumes a request replays the recorded ids and reaches
// exactly the original pool's state (tool-call ids included, see idFor).
import type { ChoiceDelta, FinishReason, LogprobEntry, ToolCallDelta } from "../../contract/queue/messages.js";
import type { ModelTokenizer } from "../tokenizer/model-tokenizer.js";
import type { TokenTextStream } from "./incremental-decoder.js";
import { StopMatcher } from "./stop-strings.js";
import { logprobEntry, type TokenLogprobs } from "./logprobs.js";

export type { ChoiceDelta, FinishReason } from "../../contract/queue/messages.js";

/** Splits the model's text into content, reasoning and tool calls (pool/run/parsers). */
export interface OutputParser {
  push(text: string): ParsedText;
  /** the model's output ended: release what was held back */
  flush(): ParsedText;
  /** complete tool calls emitted so far */
  readonly callCount: number;
  /** whether the text so far ends inside the reasoning part */
  readonly inReasoning: boolean;
}
export interface ParsedText {
  content: string;
  reasoning: string;
  calls: ToolCallDelta[];
}

export interface ChoiceOptions {
  stops: readonly string[];
  /** content/reasoning/tool-call parser; none = all text is content */
  parser?: OutputParser;
  /** collect logprobs (the worker sends them aligned with the ids) */
  logprobs?: boolean;
}

export class ChoiceState {
  /** Ids received for this choice (what the worker generated, excluding a stripped EOS). */
  readonly tokenIds: number[] = [];
  finish: FinishReason | null = null;
  /** Tokens generated for usage (the worker's count, which includes a trimmed stop token). */
  generated = 0;
  /** Generated tokens that fell in the reasoning part. */
  reasoningTokens = 0;
  /** Set when a gateway-side stop string ended the choice (the worker may not know yet). */
  stoppedLocally = false;
  /** The stop string that ended the choice (gateway match or the worker's matched_stop_str). */
  private stopSequence: string | undefined;
  private readonly decoder: TokenTextStream;
  private readonly matcher: StopMatcher;
  private readonly eos: ReadonlySet<number>;
  private readonly parser: OutputParser | undefined;
  /** one id at a time to the decoder, without an array per token (decoders do not keep it) */
  private readonly oneId = [0];

  constructor(
    readonly index: number,
    private readonly tok: ModelTokenizer,
    private readonly opts: ChoiceOptions,
  ) {
    // A parser reads the model's markup, which some tokenizers mark special (Kimi's
    // <|tool_call_begin|>): keep special tokens then (EOS is stripped above anyway).
    const skipSpecial = opts.parser === undefined;
    this.decoder = tok.textStream(skipSpecial);
    this.matcher = new StopMatcher(opts.stops);
    this.eos = new Set(tok.eosTokenIds);
    this.parser = opts.parser;
  }

  /** Feeds generated ids (and their logprobs, aligned). Returns the delta to send (null when nothing changed). */
  accept(ids: readonly number[], logprobs?: TokenLogprobs): ChoiceDelta | null {
    if (this.finish || ids.length === 0) return null;
    const delta = this.emptyDelta();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      this.generated++;
      if (this.eos.has(id)) {
        // EOS the worker did not strip: the choice ends here, the id is not part of the text.
        this.end("stop", delta);
        break;
      }
      delta.token_ids.push(id);
      this.tokenIds.push(id);
      this.oneId[0] = id;
      const r = this.matcher.push(this.decoder.push(this.oneId));
      const contentBefore = delta.text.length;
      const reasoningBefore = delta.reasoning.length;
      this.add(delta, r.text);
      // A token counts as reasoning while the parser is inside the reasoning part, or when
      // its text went to reasoning only (the token that closes it).
      const toReasoning = delta.reasoning.length > reasoningBefore && delta.text.length === contentBefore;
      if (this.parser?.inReasoning === true || toReasoning) this.reasoningTokens++;
      else if (this.opts.logprobs && logprobs) (delta.logprobs ??= []).push(logprobEntry(this.tok, logprobs, i, id));
      if (r.matched !== null) {
        this.stoppedLocally = true;
        this.stopSequence = r.matched;
        this.end("stop", delta, true);
        break;
      }
    }
    return this.finalize(delta);
  }

  /**
   * The worker finished the choice (or the length budget is spent). A gateway stop
   * match already pinned the reason; otherwise flush held-back text (trimming at the
   * worker's matched stop string, if any).
   */
  complete(reason: FinishReason, matchedStopStr?: string): ChoiceDelta | null {
    if (this.finish) return null;
    const delta = this.emptyDelta();
    this.end(reason === "length" ? "length" : "stop", delta, false, matchedStopStr);
    return this.finalize(delta);
  }

  private emptyDelta(): ChoiceDelta & { reasoning: string } {
    return { index: this.index, text: "", token_ids: [], offset: this.tokenIds.length, finish_reason: null, reasoning: "" };
  }

  private add(delta: ChoiceDelta & { reasoning: string }, text: string): void {
    if (!text) return;
    if (!this.parser) {
      delta.text += text;
      return;
    }
    this.merge(delta, this.parser.push(text));
  }

  private merge(delta: ChoiceDelta & { reasoning: string }, p: ParsedText): void {
    delta.text += p.content;
    delta.reasoning += p.reasoning;
    if (p.calls.length) (delta.tool_calls ??= []).push(...p.calls);
  }

  /** Ends the choice: releases held-back text; a turn that made tool calls ends with "tool_calls". */
  private end(reason: "stop" | "length", delta: ChoiceDelta & { reasoning: string }, stopMatched = false, matchedStopStr?: string): void {
    if (!stopMatched) {
      const r = this.matcher.push(this.decoder.flush());
      this.add(delta, r.text);
      if (r.matched !== null) {
        this.stoppedLocally = true;
        this.stopSequence = r.matched;
        reason = "stop";
      } else {
        this.add(delta, this.matcher.flush(matchedStopStr));
        if (matchedStopStr && reason === "stop") this.stopSequence = matchedStopStr;
      }
    }
    if (this.parser) this.merge(delta, this.parser.flush());
    this.finish = reason === "stop" && (this.parser?.callCount ?? 0) > 0 ? "tool_calls" : reason;
    delta.finish_reason = this.finish;
    if (this.finish === "stop" && this.stopSequence !== undefined) delta.stop_sequence = this.stopSequence;
  }

  private finalize(delta: ChoiceDelta & { reasoning: string }): ChoiceDelta {
    const out: ChoiceDelta = { index: delta.index, text: delta.text, token_ids: delta.token_ids, finish_reason: delta.finish_reason };
    if (delta.reasoning) out.reasoning = delta.reasoning;
    if (delta.tool_calls?.length) out.tool_calls = delta.tool_calls;
    if (delta.logprobs?.length) out.logprobs = delta.logprobs;
    if (delta.stop_sequence !== undefined) out.stop_sequence = delta.stop_sequence;
    return out;
  }
}

export type { LogprobEntry };
