// Builds OpenAI response objects (chat.completion, text_completion and their
// streamed chunks) from the pool's ResponseEvents.
import type { ResponseEvent, Usage } from "../../contract/queue/messages.js";
import type { RequestMeta } from "../queue.js";

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function toOpenAIUsage(u: Usage): OpenAIUsage {
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.prompt_tokens + u.completion_tokens,
    prompt_tokens_details: { cached_tokens: u.cached_tokens },
  };
}

type ChunkChoice = { index: number; text: string; role: boolean; finish_reason: string | null };

/** Turns the stream's events into OpenAI chunks, remembering which choices already started and finished. */
export class ChunkBuilder {
  private readonly started = new Set<number>();
  private readonly finished = new Set<number>();

  constructor(
    private readonly rid: string,
    private readonly meta: RequestMeta,
    /** true when resuming mid-stream: the role delta was already sent */
    resumed: boolean,
  ) {
    if (resumed) for (let i = 0; i < meta.n; i++) this.started.add(i);
  }

  /** Chunks for one `chunk` event (one object holding every choice it touched). */
  fromChunk(ev: Extract<ResponseEvent, { type: "chunk" }>): object | null {
    const choices: ChunkChoice[] = [];
    for (const ch of ev.choices) {
      if (ch.text === "" && ch.finish_reason === null && this.started.has(ch.index)) continue;
      choices.push({ index: ch.index, text: ch.text, role: !this.started.has(ch.index), finish_reason: ch.finish_reason });
      this.started.add(ch.index);
      if (ch.finish_reason !== null) this.finished.add(ch.index);
    }
    return choices.length ? this.chunk(choices) : null;
  }

  /** A closing chunk for choices the pool never finished explicitly (finish_reason "stop"). */
  closing(): object | null {
    const choices: ChunkChoice[] = [];
    for (let i = 0; i < this.meta.n; i++) {
      if (this.finished.has(i)) continue;
      choices.push({ index: i, text: "", role: !this.started.has(i), finish_reason: "stop" });
      this.started.add(i);
      this.finished.add(i);
    }
    return choices.length ? this.chunk(choices) : null;
  }

  /** The stream_options.include_usage chunk: no choices, the whole request's usage. */
  usage(u: Usage): object {
    return { ...this.base(), choices: [], usage: toOpenAIUsage(u) };
  }

  private base() {
    const object = this.meta.kind === "chat" ? "chat.completion.chunk" : "text_completion";
    return { id: this.rid, object, created: this.meta.created, model: this.meta.model, system_fingerprint: null };
  }

  private chunk(choices: ChunkChoice[]): object {
    const out: Record<string, unknown> = { ...this.base() };
    if (this.meta.kind === "chat") {
      out.choices = choices.map((c) => ({
        index: c.index,
        delta: c.role ? { role: "assistant", content: c.text } : { content: c.text },
        logprobs: null,
        finish_reason: c.finish_reason,
      }));
    } else {
      out.choices = choices.map((c) => ({ index: c.index, text: c.text, logprobs: null, finish_reason: c.finish_reason }));
    }
    // With include_usage, OpenAI sends usage: null on every chunk but the last.
    if (this.meta.include_usage) out.usage = null;
    return out;
  }
}

/** Accumulates a whole response for the non-streaming endpoints. */
export class ResponseAccumulator {
  private readonly texts: string[];
  private readonly finish: (string | null)[];

  constructor(
    private readonly rid: string,
    private readonly meta: RequestMeta,
  ) {
    this.texts = Array.from({ length: meta.n }, () => "");
    this.finish = Array.from({ length: meta.n }, () => null);
  }

  add(ev: Extract<ResponseEvent, { type: "chunk" }>): void {
    for (const ch of ev.choices) {
      if (ch.index >= this.texts.length) {
        // A pool answering more choices than asked: keep them rather than drop text.
        while (this.texts.length <= ch.index) {
          this.texts.push("");
          this.finish.push(null);
        }
      }
      this.texts[ch.index] += ch.text;
      if (ch.finish_reason !== null) this.finish[ch.index] = ch.finish_reason;
    }
  }

  build(usage: Usage): object {
    const base = { id: this.rid, created: this.meta.created, model: this.meta.model, system_fingerprint: null };
    const u = toOpenAIUsage(usage);
    if (this.meta.kind === "chat") {
      return {
        ...base,
        object: "chat.completion",
        choices: this.texts.map((text, index) => ({
          index,
          message: { role: "assistant", content: text, refusal: null },
          logprobs: null,
          finish_reason: this.finish[index] ?? "stop",
        })),
        usage: u,
      };
    }
    return {
      ...base,
      object: "text_completion",
      choices: this.texts.map((text, index) => ({ index, text, logprobs: null, finish_reason: this.finish[index] ?? "stop" })),
      usage: u,
    };
  }
}
