// SSE on Node without web streams: the relay's text goes straight to the
// socket (ServerResponse.write), with the same headers Hono's streamSSE sends
// plus everything the request's middleware set on the context. @hono/node-server
// leaves a response marked x-hono-already-sent alone.
import type { ServerResponse } from "node:http";
import { honoSse, type SseResponder } from "../streams/sse-sink.js";

const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" };

export const directSse: SseResponder = (c, run) => {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  // app.request() in tests and other hosts: no Node response to write to
  if (!outgoing || typeof outgoing.writeHead !== "function") return honoSse(c, run);
  for (const [k, v] of Object.entries(SSE_HEADERS)) c.header(k, v);
  const headers: Record<string, string> = {};
  c.newResponse(null, 200).headers.forEach((v, k) => (headers[k] = v));
  // no content-length: Node sends chunked. The client gets the status and headers at once,
  // even while its request waits in the queue, in the same socket write as what the relay
  // writes in this turn (the opening events).
  outgoing.cork();
  outgoing.writeHead(200, headers);
  outgoing.flushHeaders();
  process.nextTick(() => outgoing.uncork());

  const listeners: (() => void)[] = [];
  let gone = false;
  outgoing.once("close", () => {
    if (outgoing.writableFinished) return;
    gone = true;
    for (const f of listeners.splice(0)) f();
  });
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        outgoing.off("drain", done);
        outgoing.off("close", done);
        resolve();
      };
      outgoing.on("drain", done);
      outgoing.on("close", done);
    });
  void run({
    write: async (text) => {
      if (gone || outgoing.destroyed) return;
      if (!outgoing.write(text)) await drained();
    },
    onAbort: (listener) => {
      if (gone) listener();
      else listeners.push(listener);
    },
  })
    .catch(() => {})
    .finally(() => {
      if (!outgoing.writableEnded) outgoing.end();
    });
  return new Response(null, { headers: { "x-hono-already-sent": "true" } });
};
