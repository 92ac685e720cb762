// Responses API, not streamed: one response object accumulated from the
// pool's event stream by the shared builder (output.ts).
import type { Usage } from "../../contract/queue/messages.js";
import type { ChunkEvent, JsonTranslator } from "../api/translator.js";
import type { RequestMeta } from "../queue.js";
import { ResponseBuilder } from "./output.js";

/** The response object's echoed fields and model, from the request's meta. */
export const headOf = (meta: RequestMeta): Record<string, unknown> => ({ created_at: meta.created, ...meta.echo, model: meta.model });

export class ResponsesJson implements JsonTranslator {
  private readonly builder: ResponseBuilder;

  constructor(rid: string, meta: RequestMeta) {
    this.builder = new ResponseBuilder(rid, headOf(meta));
  }

  add(ev: ChunkEvent): void {
    this.builder.add(ev);
  }

  build(usage: Usage): object {
    const events = this.builder.done(usage);
    return events[events.length - 1]!.response as object;
  }
}
