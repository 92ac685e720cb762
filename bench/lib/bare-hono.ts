// The admission scenario's ceiling: a bare Hono app on @hono/node-server in its own
// process. Like the edge it reads and parses the JSON body and answers SSE headers at
// once; unlike it, no auth, no validation, no Redis. The stream stays open until the
// client leaves. Prints {"ready":true,"url":...} when listening (scripts/stack.ts).
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";

const app = new Hono();
app.post("/v1/chat/completions", async (c) => {
  await c.req.json();
  // the comment makes @hono/node-server send the headers now, as the edge flushes them
  return streamSSE(c, async (s) => {
    await s.write(": ok\n\n");
    await new Promise<void>((resolve) => s.onAbort(resolve));
  });
});

const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
  console.log(JSON.stringify({ ready: true, url: `http://127.0.0.1:${info.port}` }));
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
