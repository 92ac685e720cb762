// The Node edge's life around its requests: health and readiness probes, a
// SIGTERM-style drain that refuses new requests, lets open responses finish up
// to a deadline and ends the rest so clients resume them on another edge, the
// x-resumable grace after a dropped connection, and the body timeout.
import { connect } from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../contract/queue/keys.js";
import { startNodeEdge, type NodeEdge } from "../../edge/entry-node.js";
import { waitFor } from "../../scripts/wait.js";
import { SseReader, chatTextOf, chatBody, post, startHarness, type EdgeHarness } from "./helpers.js";

let h: EdgeHarness;
const KEY = "sk-lifecycle";
const logger = pino({ level: "silent" });

beforeAll(async () => {
  h = await startHarness();
  await h.seed({ tenantId: "tl", key: KEY });
});
afterAll(() => h?.stop());

const edgeOn = (extra: Partial<Parameters<typeof startNodeEdge>[0]> = {}) =>
  startNodeEdge({ redisUrl: h.redis.url, port: 0, config: { modelCacheMs: 0 }, logger, ...extra });


describe("probes", () => {
  it("/healthz answers while alive; /readyz while Redis answers and the edge is not draining", async () => {
    const edge = await edgeOn();
    try {
      expect((await fetch(`${edge.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${edge.url}/readyz`);
      expect({ status: ready.status, body: await ready.json() }).toEqual({ status: 200, body: { status: "ready" } });
      void edge.drain(60_000);
      expect(edge.lifecycle.draining).toBe(true);
    } finally {
      await edge.close();
    }
  });

  it("/readyz is 503 while Redis is down", async () => {
    const other = await startHarness();
    const edge = await startNodeEdge({ redisUrl: other.redis.url, port: 0, logger });
    try {
      await other.redis.kill();
      const res = await fetch(`${edge.url}/readyz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { status: string }).status).toBe("redis_unavailable");
    } finally {
      await edge.close();
      await other.stop().catch(() => {});
    }
  });
});

describe("drain", () => {
  it("refuses new requests, ends open streams at the deadline, and the request completes through a resume on another edge", async () => {
    const draining = await edgeOn();
    const other = await edgeOn();
    try {
      const res = await post(`${draining.url}/v1/chat/completions`, KEY, chatBody({ stream: true }));
      const rid = res.headers.get("x-request-id")!;
      const sse = new SseReader(res);
      const job = await h.pool.claim("tl");
      const firstId = await h.pool.chunk(job.id, "Hello");
      let lastId = "";
      for (;;) {
        const it = await sse.nextEvent();
        if (it?.id) lastId = it.id;
        if (lastId === firstId) break;
      }

      const drained = draining.drain(200);
      const refused = await post(`${draining.url}/v1/chat/completions`, KEY, chatBody());
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("service_unavailable");
      expect((await fetch(`${draining.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${other.url}/readyz`)).status).toBe(200);

      // At the deadline the open stream ends without a terminal event, and its request is not cancelled...
      const tail = await sse.rest();
      expect(tail.some((it) => it.data === "[DONE]")).toBe(false);
      expect(await drained).toEqual({ finished: 0, ended: 1 });
      expect(await h.r.exists(keys.cancel(job.id))).toBe(0);

      // ...so the client resumes it on another edge and gets the rest.
      await h.pool.chunk(job.id, ", world", "stop");
      await h.pool.done(job.id);
      const resumed = await post(`${other.url}/v1/chat/completions`, KEY, "{}", { "x-request-id": rid, "last-event-id": lastId });
      const rest = await new SseReader(resumed).rest();
      expect(chatTextOf(rest)).toBe(", world");
      expect(rest.at(-1)?.data).toBe("[DONE]");
    } finally {
      await draining.close();
      await other.close();
    }
  });

  it("a drain with nothing open finishes at once", async () => {
    const edge = await edgeOn();
    try {
      expect(await edge.drain(60_000)).toEqual({ finished: 0, ended: 0 });
    } finally {
      await edge.close();
    }
  });
});

describe("dropped connections", () => {
  it("x-resumable: true keeps the request generating after a disconnect; without it the request is cancelled", async () => {
    for (const resumable of [true, false]) {
      const ctrl = new AbortController();
      const headers: Record<string, string> = resumable ? { "x-resumable": "true" } : {};
      const res = await post(`${h.edge.url}/v1/chat/completions`, KEY, chatBody({ stream: true }), headers, ctrl.signal);
      const rid = res.headers.get("x-request-id")!;
      const job = await h.pool.claim("tl");
      const firstId = await h.pool.chunk(job.id, "part one");
      const sse = new SseReader(res);
      while ((await sse.nextEvent())?.id !== firstId);
      ctrl.abort();
      if (!resumable) {
        // Cancelled at once (EDGE_CANCEL_GRACE_MS 0): the cancel marker appears.
        await waitFor(async () => (await h.r.exists(keys.cancel(job.id))) === 1, "the cancel marker");
        continue;
      }
      await h.pool.chunk(job.id, " and two", "stop");
      await h.pool.done(job.id);
      const resumed = await post(`${h.edge.url}/v1/chat/completions`, KEY, "{}", { "x-request-id": rid, "last-event-id": firstId });
      expect(chatTextOf(await new SseReader(resumed).rest())).toBe(" and two");
      expect(await h.r.exists(keys.cancel(job.id))).toBe(0);
    }
  });
});

describe("body timeout", () => {
  it("a body trickled byte by byte is refused with 408 within the body timeout", async () => {
    const edge = await edgeOn({ bodyTimeoutMs: 1_000 });
    try {
      const port = edge.port;
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = connect(port, "127.0.0.1");
        let got = "";
        const body = chatBody();
        sock.on("connect", () => {
          sock.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${KEY}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
          let i = 0;
          const drip = setInterval(() => {
            if (i < body.length && !sock.destroyed) sock.write(body[i++]!);
          }, 100);
          sock.on("close", () => clearInterval(drip));
        });
        sock.on("data", (d) => (got += d.toString()));
        sock.on("close", () => resolve(got));
        sock.on("error", reject);
      });
      expect(answer.startsWith("HTTP/1.1 408")).toBe(true);
    } finally {
      await edge.close();
    }
  });
});
