// One core, many APIs: the pool writes one internal event stream per request
// (contract/queue/messages.ts ResponseEvent); each public API (chat
// completions, completions, Responses, Messages) is a translator from that
// stream to its own wire shape. The relay (edge/relay.ts) is the same for all.
import type { ErrorInfo, ResponseEvent, Usage } from "../../contract/queue/messages.js";

export type ChunkEvent = Extract<ResponseEvent, { type: "chunk" }>;

/** One Server-Sent Event as the relay writes it. */
export interface SseEvent {
  /** SSE `event:` name (the Responses and Messages APIs name their events) */
  event?: string;
  data: string;
  /** the response-stream entry id, so a client can resume after it */
  id?: string;
}

/** Translates a request's event stream into one API's SSE events. */
export interface StreamTranslator {
  /** Events sent once, before the pool's first output (nothing on a resume). */
  open(): SseEvent[];
  chunk(ev: ChunkEvent, id: string): SseEvent[];
  done(usage: Usage, id: string): SseEvent[];
  /** A terminal error (from the pool, or the edge's own such as a queue timeout). */
  error(err: ErrorInfo, id?: string): SseEvent[];
  /** A resume found the stream already complete: close it the API's way. */
  ended(): SseEvent[];
  /** Raw text written while nothing else happens (SSE comments or a ping event). */
  keepalive(queuePosition: number | null): string;
  /**
   * On a resume, read the stream from its start (the translator rebuilds its
   * state and sends only what follows the client's Last-Event-ID), for APIs
   * whose events carry state: item indexes, sequence numbers, the final object.
   */
  readonly replay?: boolean;
}

/** Accumulates a request's event stream into one API's non-streamed response body. */
export interface JsonTranslator {
  add(ev: ChunkEvent): void;
  build(usage: Usage): object;
}

export function sseText(events: readonly SseEvent[]): string {
  let out = "";
  for (const e of events) {
    if (e.event !== undefined) out += `event: ${e.event}\n`;
    if (e.id !== undefined) out += `id: ${e.id}\n`;
    out += `data: ${e.data}\n\n`;
  }
  return out;
}
