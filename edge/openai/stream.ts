// OpenAI streaming: chat.completion.chunk / text_completion objects as SSE
// `data:` events ending with `data: [DONE]`, from the pool's event stream.
import type { ErrorInfo, Usage } from "../../contract/queue/messages.js";
import type { ChunkEvent, SseEvent, StreamTranslator } from "../api/translator.js";
import type { RequestMeta } from "../queue.js";
import { chatLogprobs, completionLogprobs, toOpenAIUsage, toolCallDelta } from "./pieces.js";

type ChoiceDelta = ChunkEvent["choices"][number];

export class OpenAIStream implements StreamTranslator {
  private readonly started = new Set<number>();
  private readonly finished = new Set<number>();
  /** completions only: text length so far per choice (logprobs text_offset) */
  private readonly textLength = new Map<number, number>();
  /**
   * Every chunk object's JSON around its choices, written once per stream: the fields
   * before `choices` never change within a stream, and serializing them (and building
   * the object) for every token cost more than the choices themselves.
   */
  private readonly jsonHead: string;
  private readonly jsonTail: string;

  constructor(
    private readonly rid: string,
    private readonly meta: RequestMeta,
    /** resuming mid-stream: the role delta was already sent */
    resumed: boolean,
  ) {
    if (resumed) for (let i = 0; i < meta.n; i++) this.started.add(i);
    const head = JSON.stringify({ ...this.base(), choices: [] });
    this.jsonHead = head.slice(0, head.length - "[]}".length);
    // With include_usage, OpenAI sends usage: null on every chunk but the last.
    this.jsonTail = meta.include_usage ? ',"usage":null}' : "}";
  }

  open(): SseEvent[] {
    return [];
  }

  keepalive(position: number | null): string {
    return ": keepalive\n\n" + (position !== null ? `: queued position=${position}\n\n` : "");
  }

  ended(): SseEvent[] {
    return [{ data: "[DONE]" }];
  }

  chunk(ev: ChunkEvent, id: string): SseEvent[] {
    const out: SseEvent[] = [];
    const body = ev.choices.filter((ch) => this.hasBody(ch)).map((ch) => this.choiceBody(ch));
    if (body.length) out.push({ id, data: this.object(body) });
    const ends = ev.choices.filter((ch) => ch.finish_reason !== null && !this.finished.has(ch.index));
    if (ends.length) out.push({ id, data: this.object(ends.map((ch) => this.finishBody(ch.index, ch.finish_reason!))) });
    return out;
  }

  done(usage: Usage, id: string): SseEvent[] {
    const out: SseEvent[] = [];
    // Choices the pool never finished explicitly end with "stop".
    const open: object[] = [];
    for (let i = 0; i < this.meta.n; i++) if (!this.finished.has(i)) open.push(this.finishBody(i, "stop"));
    if (open.length) out.push({ id, data: this.object(open) });
    if (this.meta.include_usage) out.push({ id, data: JSON.stringify({ ...this.base(), choices: [], usage: toOpenAIUsage(usage) }) });
    out.push({ data: "[DONE]" });
    return out;
  }

  error(err: ErrorInfo, id?: string): SseEvent[] {
    return [{ id, data: JSON.stringify({ error: { message: err.message, type: err.type, param: null, code: err.code } }) }];
  }

  /** Whether the delta carries anything but its finish (which goes in a chunk of its own). */
  private hasBody(ch: ChoiceDelta): boolean {
    if (!this.started.has(ch.index)) return true;
    return ch.text !== "" || !!ch.reasoning || !!ch.tool_calls?.length || !!ch.logprobs?.length;
  }

  private choiceBody(ch: ChoiceDelta): object {
    const first = !this.started.has(ch.index);
    this.started.add(ch.index);
    const logprobs = ch.logprobs?.length ? ch.logprobs : undefined;
    if (this.meta.kind !== "chat") {
      const offset = this.textLength.get(ch.index) ?? 0;
      this.textLength.set(ch.index, offset + ch.text.length);
      return { index: ch.index, text: ch.text, logprobs: logprobs ? completionLogprobs(logprobs, offset) : null, finish_reason: null };
    }
    const delta: Record<string, unknown> = first ? { role: "assistant", content: ch.text } : {};
    if (!first && ch.text !== "") delta.content = ch.text;
    if (ch.reasoning) delta.reasoning_content = ch.reasoning;
    if (ch.tool_calls?.length) delta.tool_calls = ch.tool_calls.map(toolCallDelta);
    return { index: ch.index, delta, logprobs: logprobs ? { content: chatLogprobs(logprobs), refusal: null } : null, finish_reason: null };
  }

  /** OpenAI's last chunk of a choice: an empty delta and the finish reason. */
  private finishBody(index: number, reason: string): object {
    this.started.add(index);
    this.finished.add(index);
    if (this.meta.kind !== "chat") return { index, text: "", logprobs: null, finish_reason: reason };
    return { index, delta: {}, logprobs: null, finish_reason: reason };
  }

  private base() {
    const object = this.meta.kind === "chat" ? "chat.completion.chunk" : "text_completion";
    return { id: this.rid, object, created: this.meta.created, model: this.meta.model, system_fingerprint: null };
  }

  /** A chunk object with these choices, as JSON: `{...base, "choices": [...], "usage": null}`. */
  private object(choices: object[]): string {
    return this.jsonHead + JSON.stringify(choices) + this.jsonTail;
  }
}
