// Responses API, streamed: the semantic SSE events (`event:` name, JSON data
// with a strictly increasing sequence_number) from the pool's event stream.
// On a resume (Last-Event-ID) it replays the stream from its start without
// sending what the client already has, so item indexes, ids, sequence numbers
// and the final response object are those of an unbroken stream.
import type { ErrorInfo, Usage } from "../../contract/queue/messages.js";
import type { ChunkEvent, SseEvent, StreamTranslator } from "../api/translator.js";
import type { RequestMeta } from "../queue.js";
import { compareIds } from "../streams/reader.js";
import { headOf } from "./json.js";
import { ResponseBuilder, type EventBody } from "./output.js";

export class ResponsesStream implements StreamTranslator {
  readonly replay = true;
  private readonly b: ResponseBuilder;
  private seq = 0;

  constructor(
    rid: string,
    meta: RequestMeta,
    /** the client's Last-Event-ID on a resume, else null */
    private readonly resumedAfter: string | null,
  ) {
    this.b = new ResponseBuilder(rid, headOf(meta));
    // open()'s two events were sent before anything the stream holds.
    if (resumedAfter !== null) this.seq = 2;
  }

  open(): SseEvent[] {
    return this.emit([
      { type: "response.created", response: this.b.response("in_progress") },
      { type: "response.in_progress", response: this.b.response("in_progress") },
    ]);
  }

  chunk(ev: ChunkEvent, id: string): SseEvent[] {
    return this.emit(this.b.add(ev), id);
  }

  done(usage: Usage, id: string): SseEvent[] {
    return this.emit(this.b.done(usage), id);
  }

  error(err: ErrorInfo, id?: string): SseEvent[] {
    return this.emit(this.b.fail(err), id);
  }

  ended(): SseEvent[] {
    return [];
  }

  keepalive(): string {
    return ": keepalive\n\n";
  }

  /** Numbers and renders events; those of entries the client already received (a resume) are counted, not sent. */
  private emit(events: EventBody[], id?: string): SseEvent[] {
    const sent = id !== undefined && this.resumedAfter !== null && compareIds(id, this.resumedAfter) <= 0;
    const out: SseEvent[] = [];
    for (const e of events) {
      const data = JSON.stringify({ ...e, sequence_number: this.seq++ });
      if (!sent) out.push({ event: e.type, data, ...(id !== undefined ? { id } : {}) });
    }
    return out;
  }
}
