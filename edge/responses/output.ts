// Builds a Responses API response from the pool's internal event stream: its
// output items (reasoning, message with output_text, function_call) and, as it
// goes, the semantic streaming events (without sequence numbers) that describe
// each step. The streamed and the non-streamed translators and the store all
// use this one builder, so a stored response equals the streamed one.
import type { ErrorInfo, Usage } from "../../contract/queue/messages.js";
import type { ChunkEvent } from "../api/translator.js";
import type { Item } from "./items.js";

export type EventBody = { type: string } & Record<string, unknown>;
type Kind = "message" | "reasoning" | "function_call";

export function responsesUsage(u: Usage) {
  return {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: u.cached_tokens },
    output_tokens: u.completion_tokens,
    output_tokens_details: { reasoning_tokens: u.reasoning_tokens ?? 0 },
    total_tokens: u.prompt_tokens + u.completion_tokens,
  };
}

/** The response object with everything the request echoes; `head` is RequestMeta.echo plus the model. */
export function responseObject(id: string, head: Record<string, unknown>, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    id,
    object: "response",
    background: false,
    error: null,
    incomplete_details: null,
    max_tool_calls: null,
    service_tier: "default",
    top_logprobs: 0,
    usage: null,
    ...head,
    ...fields,
  };
}

export class ResponseBuilder {
  readonly output: Item[] = [];
  private open: { kind: Kind; index: number } | null = null;
  /** whitespace text held back: it opens no message unless real text follows */
  private ws = "";
  /** the pool's tool-call index -> output index of its function_call item */
  private readonly calls = new Map<number, number>();
  private finish: string | null = null;
  private readonly suffix: string;

  constructor(
    readonly id: string,
    private readonly head: Record<string, unknown>,
  ) {
    this.suffix = id.replace(/^resp_/, "");
  }

  response(status: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
    return responseObject(this.id, this.head, { status, output: this.output, ...fields });
  }

  add(ev: ChunkEvent): EventBody[] {
    const out: EventBody[] = [];
    for (const ch of ev.choices) {
      if (ch.index !== 0) continue; // the Responses API has one choice (n is always 1)
      if (ch.reasoning) {
        this.ensure("reasoning", out);
        this.appendText(ch.reasoning, "response.reasoning_text.delta", out);
      }
      if (ch.text) {
        if (this.open?.kind === "message") this.appendText(ch.text, "response.output_text.delta", out);
        else if (/\S/.test(ch.text)) {
          const text = this.ws + ch.text;
          this.ws = "";
          this.ensure("message", out);
          this.appendText(text, "response.output_text.delta", out);
        } else this.ws += ch.text;
      }
      for (const p of ch.tool_calls ?? []) {
        if (p.id !== undefined) {
          this.close("completed", out);
          this.calls.set(p.index, this.output.length);
          this.start("function_call", { call_id: p.id, name: p.name ?? "", arguments: "" }, out);
        }
        const at = this.calls.get(p.index);
        if (at === undefined || !p.arguments) continue;
        const item = this.output[at]!;
        item.arguments = (item.arguments as string) + p.arguments;
        if (this.open?.index === at) out.push({ type: "response.function_call_arguments.delta", item_id: item.id, output_index: at, delta: p.arguments });
      }
      if (ch.finish_reason !== null) this.finish = ch.finish_reason;
    }
    return out;
  }

  /** The terminal events of a finished generation: completed, or incomplete when the output limit cut it. */
  done(usage: Usage): EventBody[] {
    const out: EventBody[] = [];
    const cut = this.finish === "length";
    this.close(cut ? "incomplete" : "completed", out);
    const response = cut
      ? this.response("incomplete", { incomplete_details: { reason: "max_output_tokens" }, usage: responsesUsage(usage) })
      : this.response("completed", { usage: responsesUsage(usage) });
    out.push({ type: cut ? "response.incomplete" : "response.completed", response });
    return out;
  }

  /** The terminal events of a failed (or cancelled) generation. */
  fail(err: ErrorInfo): EventBody[] {
    const out: EventBody[] = [];
    this.close("incomplete", out);
    const code = err.code ?? "server_error";
    const status = code === "cancelled" ? "cancelled" : "failed";
    out.push({ type: "error", code, message: err.message, param: null });
    out.push({ type: "response.failed", response: this.response(status, { error: { code, message: err.message } }) });
    return out;
  }

  private ensure(kind: Kind, out: EventBody[]): void {
    if (this.open?.kind === kind) return;
    this.close("completed", out);
    if (kind === "message") this.start("message", { role: "assistant", content: [] }, out);
    else this.start("reasoning", { summary: [], content: [] }, out);
  }

  private start(kind: Kind, fields: Record<string, unknown>, out: EventBody[]): void {
    const index = this.output.length;
    const prefix = kind === "message" ? "msg" : kind === "reasoning" ? "rs" : "fc";
    const item: Item = { id: `${prefix}_${this.suffix}_${index}`, type: kind, status: "in_progress", ...fields };
    this.output.push(item);
    this.open = { kind, index };
    this.ws = "";
    out.push({ type: "response.output_item.added", output_index: index, item: structuredClone(item) });
    if (kind === "function_call") return;
    const part = kind === "message" ? { type: "output_text", text: "", annotations: [] } : { type: "reasoning_text", text: "" };
    (item.content as object[]).push(part);
    out.push({ type: "response.content_part.added", item_id: item.id, output_index: index, content_index: 0, part: { ...part } });
  }

  private appendText(delta: string, type: string, out: EventBody[]): void {
    const { index } = this.open!;
    const item = this.output[index]!;
    const part = (item.content as { text: string }[])[0]!;
    part.text += delta;
    const ev: EventBody = { type, item_id: item.id, output_index: index, content_index: 0, delta };
    if (type === "response.output_text.delta") ev.logprobs = [];
    out.push(ev);
  }

  private close(status: "completed" | "incomplete", out: EventBody[]): void {
    const open = this.open;
    if (!open) return;
    this.open = null;
    const item = this.output[open.index]!;
    const base = { item_id: item.id, output_index: open.index };
    if (open.kind === "function_call") {
      out.push({ type: "response.function_call_arguments.done", ...base, name: item.name, arguments: item.arguments });
    } else {
      const part = (item.content as Record<string, unknown>[])[0]!;
      if (open.kind === "message") out.push({ type: "response.output_text.done", ...base, content_index: 0, text: part.text, logprobs: [] });
      else out.push({ type: "response.reasoning_text.done", ...base, content_index: 0, text: part.text });
      out.push({ type: "response.content_part.done", ...base, content_index: 0, part: { ...part } });
    }
    item.status = status;
    out.push({ type: "response.output_item.done", output_index: open.index, item: structuredClone(item) });
  }
}
