// The Node edge's request I/O (edge/node/request-io.ts) behind a real @hono/node-server:
// bodies read straight from Node's request (whole, chunked, over the limit, cut short by
// the client) and a client's leaving noticed from Node's response.
import { createConnection } from "node:net";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { EventEmitter } from "node:events";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Hono } from "hono";
import { serve, type ServerType } from "@hono/node-server";
import { nodeRequestIo } from "../../edge/node/request-io.js";
import { EdgeError } from "../../edge/errors.js";
import type { EdgeEnv } from "../../edge/deps.js";

const MAX = 64 * 1024;
let server: ServerType;
let base: string;
let port: number;
/** what each read ended with: the body's length, or the EdgeError's code */
let outcomes: (number | string)[] = [];
/** "entered" when a route starts, "outcome" when a read ends, "gone" when a client left */
const events = new EventEmitter();

beforeAll(async () => {
  const app = new Hono<EdgeEnv>();
  app.post("/read", async (c) => {
    events.emit("entered");
    try {
      const bytes = await nodeRequestIo.body(c, MAX);
      outcomes.push(bytes.byteLength);
      events.emit("outcome");
      return c.json({ bytes: bytes.byteLength, text: new TextDecoder().decode(bytes.subarray(0, 5)) });
    } catch (e) {
      const err = e as EdgeError;
      outcomes.push(err.code);
      events.emit("outcome");
      return c.json({ code: err.code }, err.status as 400, err.headers);
    }
  });
  app.post("/wait", (c) => {
    // answers only once the client is gone (or never)
    events.emit("entered");
    return new Promise<Response>((resolve) =>
      nodeRequestIo.onClientGone(c, () => {
        events.emit("gone");
        resolve(c.body(null));
      }),
    );
  });
  app.post("/quick", (c) => {
    nodeRequestIo.onClientGone(c, () => outcomes.push("gone"));
    return c.json({ ok: true });
  });
  server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

it("reads a whole body, with and without Content-Length", async () => {
  outcomes = [];
  const body = JSON.stringify({ hello: "x".repeat(40_000) });
  const a = await fetch(`${base}/read`, { method: "POST", body });
  expect(await a.json()).toEqual({ bytes: body.length, text: '{"hel' });
  const bytes = new TextEncoder().encode(body);
  const chunked = new ReadableStream<Uint8Array>({
    start(ctl) {
      for (let i = 0; i < bytes.length; i += 4096) ctl.enqueue(bytes.slice(i, i + 4096));
      ctl.close();
    },
  });
  const b = await fetch(`${base}/read`, { method: "POST", body: chunked, duplex: "half" } as RequestInit);
  expect(await b.json()).toEqual({ bytes: body.length, text: '{"hel' });
  const empty = await fetch(`${base}/read`, { method: "POST", body: "" });
  expect(empty.status).toBe(400);
  expect(outcomes).toEqual([body.length, body.length, "invalid_json"]);
});

it("refuses a chunked body once it passes the limit, and closes that connection", async () => {
  const big = new Uint8Array(MAX + 10_000).fill(120);
  const chunked = new ReadableStream<Uint8Array>({
    start(ctl) {
      for (let i = 0; i < big.length; i += 8192) ctl.enqueue(big.slice(i, i + 8192));
      ctl.close();
    },
  });
  const res = await fetch(`${base}/read`, { method: "POST", body: chunked, duplex: "half" } as RequestInit);
  expect(res.status).toBe(413);
  expect(res.headers.get("connection")).toBe("close");
  expect(await res.json()).toEqual({ code: "payload_too_large" });
  const declared = await fetch(`${base}/read`, { method: "POST", body: big });
  expect(declared.status).toBe(413);
  expect(declared.headers.get("connection")).toBe("close");
});

it("a body the client cuts short ends the read with a 400, and the server goes on", async () => {
  outcomes = [];
  const sock = createConnection({ port, host: "127.0.0.1" });
  await once(sock, "connect");
  const entered = once(events, "entered");
  sock.write(`POST /read HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"partial":`);
  await entered; // the route is reading when the client leaves
  const ended = once(events, "outcome");
  sock.destroy();
  await ended;
  expect(outcomes).toEqual(["invalid_json"]);
  const next = await fetch(`${base}/read`, { method: "POST", body: "{}" });
  expect(await next.json()).toEqual({ bytes: 2, text: "{}" });
});

it("notices a client that leaves before its response, and not one that got it", async () => {
  const left = once(events, "gone");
  const entered = once(events, "entered");
  const ctl = new AbortController();
  const pending = fetch(`${base}/wait`, { method: "POST", body: "{}", signal: ctl.signal }).catch(() => null);
  await entered; // the listener is attached
  ctl.abort();
  await pending;
  await left;

  outcomes = [];
  const res = await fetch(`${base}/quick`, { method: "POST", body: "{}" });
  expect(await res.json()).toEqual({ ok: true });
  const again = await fetch(`${base}/read`, { method: "POST", body: "{}" }); // a later request on the same connection
  await again.json();
  expect(outcomes).toEqual([2]);
});
