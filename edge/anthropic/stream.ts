// Anthropic Messages streaming: named SSE events (message_start,
// content_block_start/delta/stop, message_delta with stop_reason and usage,
// message_stop; ping as the keepalive; error) from the pool's event stream.
// On a resume it replays the stream from its start without sending what the
// client already has, so it continues inside the block that was open.
import type { ErrorInfo, Usage } from "../../contract/queue/messages.js";
import type { ChunkEvent, SseEvent, StreamTranslator } from "../api/translator.js";
import type { RequestMeta } from "../queue.js";
import { compareIds } from "../streams/reader.js";
import { anthropicUsage, ContentBlocks, messageBase, stopReason, type BlockOp } from "./content.js";
import { anthropicError, anthropicErrorBody } from "./errors.js";

const OP_EVENT = { start: "content_block_start", delta: "content_block_delta", stop: "content_block_stop" } as const;

function event(name: string, body: object, id?: string): SseEvent {
  return { event: name, data: JSON.stringify({ type: name, ...body }), ...(id !== undefined ? { id } : {}) };
}

function opEvent(op: BlockOp, id: string): SseEvent {
  if (op.op === "start") return event(OP_EVENT.start, { index: op.index, content_block: op.block }, id);
  if (op.op === "delta") return event(OP_EVENT.delta, { index: op.index, delta: op.delta }, id);
  return event(OP_EVENT.stop, { index: op.index }, id);
}

export class AnthropicStream implements StreamTranslator {
  /** Block indexes depend on everything before: a resume re-reads the stream from its start. */
  readonly replay = true;
  private readonly blocks = new ContentBlocks();
  private finish: ChunkEvent["choices"][number]["finish_reason"] = null;
  private stopSequence: string | null = null;

  constructor(
    private readonly rid: string,
    private readonly meta: RequestMeta,
    /** the client's Last-Event-ID on a resume: events of entries up to it were sent already */
    private readonly resumedAfter: string | null = null,
  ) {}

  private sent(id: string | undefined): boolean {
    return id !== undefined && this.resumedAfter !== null && compareIds(id, this.resumedAfter) <= 0;
  }

  open(): SseEvent[] {
    // The prompt's token count is known only at the end: message_delta carries the whole usage.
    const message = { ...messageBase(this.rid, this.meta.model), content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } };
    return [event("message_start", { message })];
  }

  keepalive(position: number | null): string {
    return 'event: ping\ndata: {"type":"ping"}\n\n' + (position !== null ? `: queued position=${position}\n\n` : "");
  }

  ended(): SseEvent[] {
    return [];
  }

  chunk(ev: ChunkEvent, id: string): SseEvent[] {
    const out: SseEvent[] = [];
    // Messages are single-choice (n is always 1).
    for (const ch of ev.choices) {
      if (ch.index !== 0) continue;
      for (const op of this.blocks.push(ch)) out.push(opEvent(op, id));
      if (ch.finish_reason !== null) {
        this.finish = ch.finish_reason;
        this.stopSequence = ch.stop_sequence ?? null;
      }
    }
    return this.sent(id) ? [] : out;
  }

  done(usage: Usage, id: string): SseEvent[] {
    const out = this.blocks.finish().map((op) => opEvent(op, id));
    const delta = { stop_reason: stopReason(this.finish, this.stopSequence), stop_sequence: this.stopSequence, stop_details: null };
    out.push(event("message_delta", { delta, usage: anthropicUsage(usage) }, id));
    out.push(event("message_stop", {}, id));
    return this.sent(id) ? [] : out;
  }

  error(err: ErrorInfo, id?: string): SseEvent[] {
    if (this.sent(id)) return [];
    const body = anthropicErrorBody(anthropicError(err.status).type, err.message);
    return [{ event: "error", data: JSON.stringify(body), ...(id !== undefined ? { id } : {}) }];
  }
}
