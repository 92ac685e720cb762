// The reasoning part of a thinking model's output: `<think>…</think>` before
// the answer (Qwen3, Kimi K2 Thinking). Templates that think by default open
// the block in the prompt, so the output then starts inside it with no tag.
//
// Whitespace at both edges of the reasoning and right after `</think>` (the
// templates write `<think>\n` and `</think>\n\n`) is layout, not text: it is
// dropped, so neither part starts or ends with stray newlines. The tags never
// reach either part. Output that does not start with `<think>` (after optional
// whitespace, which stays in the content) is all content.
import { findMarker, partialMarkerLength, trailingSpace } from "./markers.js";

const OPEN = "<think>";
const CLOSE = "</think>";

export interface ReasoningText {
  content: string;
  reasoning: string;
}

export interface ReasoningOptions {
  /** the prompt ends inside an opened think block (see promptOpensReasoning) */
  startsInReasoning: boolean;
}

export type ReasoningParserFactory = (opts: ReasoningOptions) => ReasoningParser;

/** Whether the rendered prompt leaves the model inside a think block it opened. */
export function promptOpensReasoning(promptText: string): boolean {
  // Only the very end counts: a `<think>` earlier in the prompt (a user quoting
  // one, or a closed block of a past turn) does not open the reply.
  return promptText.trimEnd().endsWith(OPEN);
}

/** The reasoning parser for a parser name (a tool format or a model family), undefined for models that do not think. */
export function reasoningParserFor(name: string): ReasoningParserFactory | undefined {
  if (name === "qwen3" || name === "kimi_k2") return (opts) => new ReasoningParser(opts);
  return undefined;
}

type State =
  | "start" // before deciding whether the output opens a think block
  | "reasoning"
  | "closing" // after `</think>`, dropping the separator whitespace
  | "content";

export class ReasoningParser {
  private state: State;
  /** text not yet released: undecided start, trailing whitespace or a partial tag */
  private buf = "";
  /** at the start of the reasoning: leading whitespace is dropped */
  private reasoningStarted = false;

  constructor(opts: ReasoningOptions) {
    this.state = opts.startsInReasoning ? "reasoning" : "start";
  }

  /**
   * Inside the think block, its closing tag included: the separator after
   * `</think>` still counts, so the tokens that close the block are reasoning.
   */
  get inReasoning(): boolean {
    return this.state === "reasoning" || this.state === "closing";
  }

  push(text: string): ReasoningText {
    const out: ReasoningText = { content: "", reasoning: "" };
    this.buf += text;
    while (this.step(out));
    return out;
  }

  /** End of output: an unclosed block is all reasoning; an undecided start is content. */
  flush(): ReasoningText {
    const out: ReasoningText = { content: "", reasoning: "" };
    if (this.state === "reasoning") out.reasoning = this.buf.trimEnd();
    else if (this.state !== "closing") out.content = this.buf;
    this.buf = "";
    return out;
  }

  /** One transition; true when the buffer may allow another. */
  private step(out: ReasoningText): boolean {
    switch (this.state) {
      case "start": {
        const rest = this.buf.trimStart();
        if (rest.startsWith(OPEN)) {
          this.buf = rest.slice(OPEN.length);
          this.state = "reasoning";
          return true;
        }
        if (OPEN.startsWith(rest)) return false; // whitespace or a partial `<think>`: wait
        this.state = "content";
        return true;
      }
      case "reasoning": {
        if (!this.reasoningStarted) {
          this.buf = this.buf.trimStart();
          if (!this.buf) return false;
          this.reasoningStarted = true;
        }
        const hit = findMarker(this.buf, [CLOSE]);
        if (hit) {
          out.reasoning += this.buf.slice(0, hit.at).trimEnd();
          this.buf = this.buf.slice(hit.at + CLOSE.length);
          this.state = "closing";
          return true;
        }
        // Hold a partial `</think>` and the whitespace before it (dropped if the tag follows).
        const partial = partialMarkerLength(this.buf, [CLOSE]);
        const safe = this.buf.slice(0, this.buf.length - partial);
        const release = safe.slice(0, safe.length - trailingSpace(safe));
        out.reasoning += release;
        this.buf = this.buf.slice(release.length);
        return false;
      }
      case "closing":
        this.buf = this.buf.trimStart();
        if (!this.buf) return false;
        this.state = "content";
        return true;
      case "content":
        out.content += this.buf;
        this.buf = "";
        return false;
    }
  }
}
