// The SSE relay in real workerd: queue-position and keepalive comments while
// waiting, Last-Event-ID resume, cancel on client disconnect (workerd only
// notices a disconnect at the next write, so the keepalive interval bounds how
// soon), and many concurrent streams each on its own Redis connection.
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelChannel, keys } from "../../contract/queue/keys.js";
import { seedApiKey } from "../../edge/tenants.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { FakePool, MODEL, SseReader, chatTextOf, chatBody, registerPool } from "../edge/helpers.js";
import { buildWorker, post, expectNoWorkerConnections, startWorkerd, waitFor, workerConnections, type WorkerBuild, type Workerd } from "./helpers.js";

let build: WorkerBuild;
let redis: RedisServer;
let r: Redis;
let sub: Redis;
let wd: Workerd;
let pool: FakePool;
const KEY = "sk-workerd-stream";
const OTHER = "sk-workerd-other";
const KEEPALIVE_MS = 100;

beforeAll(async () => {
  [build, redis] = await Promise.all([buildWorker(), startRedis()]);
  r = redis.client();
  sub = redis.client();
  await registerPool(r, "pool-1", [MODEL]);
  await seedApiKey(r, { tenantId: "ta", key: KEY });
  await seedApiKey(r, { tenantId: "tb", key: OTHER });
  wd = await startWorkerd(build, [{ name: "edge", bindings: { REDIS_URL: redis.url, EDGE_KEEPALIVE_MS: String(KEEPALIVE_MS), EDGE_MODEL_CACHE_MS: "0" } }]);
  pool = new FakePool(redis);
});
afterAll(async () => {
  await wd?.stop();
  await redis?.stop();
  await build?.remove();
});

const chatUrl = () => wd.url + "/v1/chat/completions";


describe("waiting", () => {
  it("sends the queue position, then keepalive comments, until the pool answers", async () => {
    const first = await post(chatUrl(), KEY, chatBody({ stream: true }));
    const second = await post(chatUrl(), KEY, chatBody({ stream: true }));
    const sse = new SseReader(second);
    const comments: string[] = [];
    while (comments.filter((c) => c === "keepalive").length < 3) {
      const it = await sse.next();
      expect(it?.kind).toBe("comment");
      comments.push(it!.comment!);
    }
    expect(comments[0]).toBe("queued position=2");
    const job1 = await pool.claim("ta");
    expect(job1.id).toBe(first.headers.get("x-request-id"));
    for (;;) {
      const it = await sse.next();
      expect(it?.kind).toBe("comment");
      if (it?.comment === "queued position=1") break;
    }
    const job2 = await pool.claim("ta");
    expect(job2.id).toBe(second.headers.get("x-request-id"));
    for (const j of [job1, job2]) {
      await pool.chunk(j.id, "ok", "stop");
      await pool.done(j.id);
    }
    expect(chatTextOf(await sse.rest())).toBe("ok");
    expect(chatTextOf(await new SseReader(first).rest())).toBe("ok");
  });
});

describe("resume with Last-Event-ID", () => {
  it("returns only the events after the given id, without enqueueing again; other tenants get 404", async () => {
    const res = await post(chatUrl(), KEY, chatBody({ stream: true, stream_options: { include_usage: true } }));
    const rid = res.headers.get("x-request-id")!;
    const sse = new SseReader(res);
    const job = await pool.claim("ta");
    const idA = await pool.chunk(job.id, "A");
    expect((await sse.nextEvent())!.id).toBe(idA);
    await sse.cancel(); // the client drops; this fake pool ignores the cancel and goes on
    const idB = await pool.chunk(job.id, "B");

    const resumed = await post(chatUrl(), KEY, "ignored", { "last-event-id": idA, "x-request-id": rid });
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get("x-request-id")).toBe(rid);
    const rs = new SseReader(resumed);
    const b = await rs.nextEvent();
    expect(b!.id).toBe(idB);
    await pool.chunk(job.id, "C", "stop");
    await pool.done(job.id);
    const rest = [b!, ...(await rs.rest())];
    expect(chatTextOf(rest)).toBe("BC");
    const events = rest.filter((e) => e.kind === "event");
    expect(JSON.parse(events[events.length - 2]!.data!).usage.total_tokens).toBe(10);
    expect(events[events.length - 1]!.data).toBe("[DONE]");
    expect(await r.llen(keys.tenantQueue(MODEL, "ta"))).toBe(0);

    const all = await new SseReader(await post(chatUrl(), KEY, "", { "last-event-id": "0", "x-request-id": rid })).rest();
    expect(chatTextOf(all)).toBe("ABC");
    const stolen = await post(chatUrl(), OTHER, "", { "last-event-id": "0", "x-request-id": rid });
    expect(stolen.status).toBe(404);
    expect(await stolen.text()).not.toContain("ABC");
  });
});

describe("cancellation", () => {
  it("a client dropping a stream mid-way cancels the request (cancel key + publish)", async () => {
    const published: string[] = [];
    await sub.ssubscribe(cancelChannel("fake-pool"));
    sub.on("smessage", (_ch: string, rid: string) => published.push(rid));
    try {
      const ctl = new AbortController();
      const res = await post(chatUrl(), KEY, chatBody({ stream: true }), {}, ctl.signal);
      const rid = res.headers.get("x-request-id")!;
      const sse = new SseReader(res);
      const job = await pool.claim("ta");
      await pool.chunk(job.id, "first");
      expect(chatTextOf([(await sse.nextEvent())!])).toBe("first");
      const abortedAt = performance.now();
      ctl.abort();
      // No more tokens: only the keepalive write reveals the disconnect to workerd.
      await waitFor("the cancel publish", () => published.includes(rid));
      const ms = performance.now() - abortedAt;
      console.log(`workerd: abort -> cancel published ${ms.toFixed(0)} ms (keepalive ${KEEPALIVE_MS} ms)`);
      expect(ms).toBeLessThan(KEEPALIVE_MS * 2 + 1000);
      expect(await r.get(keys.cancel(rid))).toBe("client_disconnected");
      expect(await r.ttl(keys.cancel(rid))).toBeGreaterThan(0);
      // The stream's connection and the cancel's own are both closed afterwards.
      await expectNoWorkerConnections(r);
    } finally {
      await sub.sunsubscribe(cancelChannel("fake-pool"));
    }
  });

  it("a client leaving a non-streaming request: workerd does not notice, the request runs to its end and frees its connection", async () => {
    // Platform limit (workerd 1.20260426): with no response started there is
    // no write at which to notice the disconnect, and request.signal does not
    // fire. The pool's max_tokens bounds the waste; the connection must not leak.
    const ctl = new AbortController();
    const pending = post(chatUrl(), KEY, chatBody(), {}, ctl.signal).catch((e: Error) => e.name);
    const job = await pool.claim("ta");
    ctl.abort();
    expect(await pending).toBe("AbortError");
    expect(await workerConnections(r)).toBe(1);
    await pool.chunk(job.id, "unread", "stop");
    await pool.done(job.id);
    await expectNoWorkerConnections(r);
    expect(await r.exists(keys.cancel(job.id))).toBe(0);
  });

  it("a finished stream is not cancelled", async () => {
    const [res, job] = await Promise.all([post(chatUrl(), KEY, chatBody({ stream: true })), pool.serve("ta", ["done"])]);
    expect(chatTextOf(await new SseReader(res).rest())).toBe("done");
    await expectNoWorkerConnections(r);
    expect(await r.exists(keys.cancel(job.id))).toBe(0);
  });
});

describe("isolation", () => {
  it("20 concurrent streams: one Redis connection each while open, none after", async () => {
    const N = 20;
    const responses = await Promise.all(Array.from({ length: N }, (_, i) => post(chatUrl(), KEY, chatBody({ stream: true, user: `u${i}` }))));
    expect(responses.every((res) => res.status === 200)).toBe(true);
    // Every open stream holds exactly its own connection (nothing shared, nothing pooled).
    expect(await workerConnections(r)).toBe(N);
    const jobs = [];
    for (let i = 0; i < N; i++) jobs.push(await pool.claim("ta"));
    await Promise.all(jobs.map(async (j) => (await pool.chunk(j.id, `text-${j.id}`, "stop"), await pool.done(j.id))));
    const texts = await Promise.all(responses.map(async (res) => chatTextOf(await new SseReader(res).rest())));
    expect(texts).toEqual(responses.map((res) => `text-${res.headers.get("x-request-id")}`));
    await expectNoWorkerConnections(r);
  });
});
