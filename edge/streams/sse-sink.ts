// Where an SSE response's text goes. The default is Hono's streamSSE (web
// streams: what every runtime has, and what workerd needs). The Node entry
// passes a direct writer to the socket (edge/node/sse-direct.ts): Hono's
// helper puts each write through a TransformStream, a second ReadableStream
// and @hono/node-server's reader loop, ~12% of the Node edge's CPU at 64 streams.
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { EdgeEnv } from "../deps.js";

export interface SseSink {
  /** Resolves once the text is taken (backpressure); a gone client makes it a no-op. */
  write(text: string): Promise<void>;
  /** Called once if the client leaves before the stream ends. */
  onAbort(listener: () => void): void;
}

/** Starts an SSE response with the context's headers; `run` writes it, and the response ends when `run` settles. */
export type SseResponder = (c: Context<EdgeEnv>, run: (sink: SseSink) => Promise<void>) => Response;

export const honoSse: SseResponder = (c, run) =>
  streamSSE(c, async (stream) => {
    await run({
      write: async (text) => {
        await stream.write(text);
      },
      onAbort: (listener) => stream.onAbort(listener),
    });
  });
