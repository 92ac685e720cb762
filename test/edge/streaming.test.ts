// The SSE relay beyond the happy path: keepalive and queue-position comments,
// Last-Event-ID resume (same tenant only), cancel on client disconnect, the
// queue deadline, and pool error events.
import type { Redis } from "ioredis";
import { pino } from "pino";
import { startNodeEdge } from "../../edge/entry-node.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelChannel, keys } from "../../contract/queue/keys.js";
import { MODEL, SseReader, chatTextOf, chatBody, post, startHarness, type EdgeHarness } from "./helpers.js";

let h: EdgeHarness;
let sub: Redis;
const KEY = "sk-stream-a";
const OTHER = "sk-stream-b";
const DEADLINE_MS = 400;

beforeAll(async () => {
  h = await startHarness({ keepaliveMs: 50, queueDeadlineMs: DEADLINE_MS });
  await h.seed({ tenantId: "ta", key: KEY });
  await h.seed({ tenantId: "tb", key: OTHER });
  sub = h.redis.client();
});
afterAll(() => h?.stop());

const chatUrl = () => h.edge.url + "/v1/chat/completions";


describe("waiting", () => {
  it("sends the queue position and keepalive comments while waiting", async () => {
    // Occupy the head of the queue so our request waits at position 2.
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
    expect(comments).toContain("keepalive");
    // Once the first request is claimed, the second moves up.
    const job1 = await h.pool.claim("ta");
    expect(job1.id).toBe(first.headers.get("x-request-id"));
    for (;;) {
      const it = await sse.next();
      if (it?.comment === "queued position=1") break;
    }
    const job2 = await h.pool.claim("ta");
    for (const j of [job1, job2]) {
      await h.pool.chunk(j.id, "ok", "stop");
      await h.pool.done(j.id);
    }
    expect(chatTextOf(await sse.rest())).toBe("ok");
    await first.body?.cancel();
  });

  it("a tenant at its queue cap gets 429 queue_full, and the refused request leaves no keys behind", async () => {
    await h.seed({ tenantId: "tcap", key: "sk-stream-cap", limits: { max_queued_requests: 1 } });
    const first = new SseReader(await post(chatUrl(), "sk-stream-cap", chatBody({ stream: true })));
    expect((await first.next())?.comment).toBe("queued position=1");
    const refused = await post(chatUrl(), "sk-stream-cap", chatBody({ stream: true }));
    expect(refused.status).toBe(429);
    expect((await refused.json()).error.code).toBe("queue_full");
    const rid = refused.headers.get("x-request-id")!;
    expect(rid).toBeTruthy();
    expect(await h.r.exists(keys.meta(rid), keys.pushTo(rid))).toBe(0);
    const job = await h.pool.claim("tcap");
    await h.pool.chunk(job.id, "ok", "stop");
    await h.pool.done(job.id);
    expect(chatTextOf(await first.rest())).toBe("ok");
  });

  it("a claimed request past its queue deadline keeps waiting (it has started)", async () => {
    const res = await post(chatUrl(), KEY, chatBody({ stream: true }));
    const sse = new SseReader(res);
    const job = await h.pool.claim("ta");
    // Wait (on the real clock, not a sleep-assert) until the deadline has passed.
    while (Date.now() < job.deadline_at + 100) await sse.next();
    await h.pool.chunk(job.id, "late", "stop");
    await h.pool.done(job.id);
    expect(chatTextOf(await sse.rest())).toBe("late");
  });

  it("503 + Retry-After when nothing claims the request before its deadline", async () => {
    const t0 = Date.now();
    const res = await post(chatUrl(), KEY, chatBody());
    const rid = res.headers.get("x-request-id")!;
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("queue_timeout");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    // The job is cancelled so a pool that claims it late drops it.
    for (let i = 0; i < 100 && !(await h.r.exists(keys.cancel(rid))); i++) await new Promise((r) => setTimeout(r, 10));
    expect(await h.r.get(keys.cancel(rid))).toBe("queue_timeout");
    await h.r.del(keys.tenantQueue(MODEL, "ta"));

    // Streaming: the headers are out already, so the timeout is an SSE error event.
    const s = await post(chatUrl(), KEY, chatBody({ stream: true }));
    const items = await new SseReader(s).rest();
    const last = items.filter((i) => i.kind === "event").pop()!;
    expect(JSON.parse(last.data!).error.code).toBe("queue_timeout");
    await h.r.del(keys.tenantQueue(MODEL, "ta"));
  });
});

describe("pool errors", () => {
  it("an error event before output: that status and body (non-stream)", async () => {
    const [res] = await Promise.all([
      post(chatUrl(), KEY, chatBody()),
      (async () => {
        const job = await h.pool.claim("ta");
        await h.pool.error(job.id, { status: 503, type: "server_error", code: "no_workers", message: "no healthy worker" });
      })(),
    ]);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBeTruthy();
    expect(await res.json()).toEqual({ error: { message: "no healthy worker", type: "server_error", param: null, code: "no_workers" } });
  });

  it("an error event mid-stream: an SSE error event, then the end", async () => {
    const res = await post(chatUrl(), KEY, chatBody({ stream: true }));
    const sse = new SseReader(res);
    const job = await h.pool.claim("ta");
    await h.pool.chunk(job.id, "part");
    const errId = await h.pool.error(job.id, { status: 500, type: "server_error", code: "worker_lost", message: "worker died" });
    const events = (await sse.rest()).filter((e) => e.kind === "event");
    expect(chatTextOf(events)).toBe("part");
    const last = events.pop()!;
    expect(last.id).toBe(errId);
    expect(JSON.parse(last.data!)).toEqual({ error: { message: "worker died", type: "server_error", param: null, code: "worker_lost" } });
    expect(events.some((e) => e.data === "[DONE]")).toBe(false);
  });
});

describe("a stream rewritten under the relay (a failover lost entries already sent)", () => {
  const piece = (text: string, offset: number) => ({ type: "chunk" as const, choices: [{ index: 0, text, token_ids: [1], offset, finish_reason: null }] });

  it("ends with a retryable error instead of sending tokens twice, and cancels the request", async () => {
    const res = await post(chatUrl(), KEY, chatBody({ stream: true }));
    const rid = res.headers.get("x-request-id")!;
    const sse = new SseReader(res);
    const job = await h.pool.claim("ta");
    await h.pool.write(job.id, piece("A", 0));
    await h.pool.write(job.id, piece("B", 1));
    expect(chatTextOf([(await sse.nextEvent())!, (await sse.nextEvent())!])).toBe("AB");
    // the entry of B was lost; a pool that took the request over writes from token 1 again
    await h.pool.write(job.id, piece("B", 1));
    const events = (await sse.rest()).filter((e) => e.kind === "event");
    expect(chatTextOf(events)).toBe("");
    expect(JSON.parse(events[events.length - 1]!.data!).error.code).toBe("service_unavailable");
    expect(await h.r.get(keys.cancel(rid))).toBe("state_lost");
  });

  it("a stream that continues where the relay is, and one resumed from the middle, go through", async () => {
    const res = await post(chatUrl(), KEY, chatBody({ stream: true }));
    const rid = res.headers.get("x-request-id")!;
    const job = await h.pool.claim("ta");
    await h.pool.write(job.id, piece("A", 0));
    const idB = await h.pool.write(job.id, piece("B", 1));
    await h.pool.write(job.id, piece("C", 2));
    await h.pool.chunk(job.id, "", "stop");
    await h.pool.done(job.id);
    expect(chatTextOf(await new SseReader(res).rest())).toBe("ABC");
    const resumed = await post(chatUrl(), KEY, "", { "last-event-id": idB, "x-request-id": rid });
    expect(chatTextOf(await new SseReader(resumed).rest())).toBe("C");
  });
});

describe("resume with Last-Event-ID", () => {
  it("returns only the events after the given id, without enqueueing again", async () => {
    const res = await post(chatUrl(), KEY, chatBody({ stream: true, stream_options: { include_usage: true } }));
    const rid = res.headers.get("x-request-id")!;
    const sse = new SseReader(res);
    const job = await h.pool.claim("ta");
    const idA = await h.pool.chunk(job.id, "A");
    const first = await sse.nextEvent();
    expect(first!.id).toBe(idA);
    // The client drops here (the pool keeps going: this fake pool ignores cancels).
    await sse.cancel();
    const idB = await h.pool.chunk(job.id, "B");
    const resumed = await post(chatUrl(), KEY, "ignored", { "last-event-id": idA, "x-request-id": rid });
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get("x-request-id")).toBe(rid);
    const rs = new SseReader(resumed);
    const b = await rs.nextEvent();
    expect(b!.id).toBe(idB);
    await h.pool.chunk(job.id, "C", "stop");
    await h.pool.done(job.id);
    const rest = [b!, ...(await rs.rest())];
    expect(chatTextOf(rest)).toBe("BC");
    const events = rest.filter((e) => e.kind === "event");
    expect(JSON.parse(events[events.length - 2]!.data!).usage.total_tokens).toBe(10);
    expect(events[events.length - 1]!.data).toBe("[DONE]");
    // Nothing was queued again.
    expect(await h.r.llen(keys.tenantQueue(MODEL, "ta"))).toBe(0);

    // Resuming after the terminal entry ends at once; from 0 replays everything.
    const lastId = (await h.r.xrevrange(keys.out(rid), "+", "-", "COUNT", 1))[0]![0];
    const atEnd = await new SseReader(await post(chatUrl(), KEY, "", { "last-event-id": lastId, "x-request-id": rid })).rest();
    expect(atEnd.filter((e) => e.kind === "event").map((e) => e.data)).toEqual(["[DONE]"]);
    const all = await new SseReader(await post(chatUrl(), KEY, "", { "last-event-id": "0", "x-request-id": rid })).rest();
    expect(chatTextOf(all)).toBe("ABC");
  });

  it("a non-streaming request's result can be fetched again from 0", async () => {
    const [res, job] = await Promise.all([post(chatUrl(), KEY, chatBody()), h.pool.serve("ta", ["x", "y"])]);
    expect(res.status).toBe(200);
    const again = await post(chatUrl(), KEY, "", { "last-event-id": "0", "x-request-id": job.id });
    expect(((await again.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe("xy");
  });

  it("another tenant cannot read the stream (404, as for an unknown id)", async () => {
    const [res, job] = await Promise.all([post(chatUrl(), KEY, chatBody({ stream: true })), h.pool.serve("ta", ["secret"])]);
    await res.text();
    const stolen = await post(chatUrl(), OTHER, "", { "last-event-id": "0", "x-request-id": job.id });
    expect(stolen.status).toBe(404);
    const body = await stolen.text();
    expect(body).not.toContain("secret");
    expect(JSON.parse(body).error.code).toBe("not_found");
    // Unknown ids, wrong endpoint kinds and bad headers are refused the same way.
    expect((await post(chatUrl(), KEY, "", { "last-event-id": "0", "x-request-id": "chatcmpl-nope" })).status).toBe(404);
    expect((await post(h.edge.url + "/v1/completions", KEY, "", { "last-event-id": "0", "x-request-id": job.id })).status).toBe(404);
    expect((await post(chatUrl(), KEY, "", { "last-event-id": "0" })).status).toBe(400);
    expect((await post(chatUrl(), KEY, "", { "last-event-id": "garbage", "x-request-id": job.id })).status).toBe(400);
  });
});

describe("cancellation", () => {
  it("a client disconnect mid-stream sets the cancel key and tells the owning pool", async () => {
    const published: { rid: string; at: number }[] = [];
    // FakePool claims as owner "fake-pool:1": the edge publishes on that pool's shard channel
    await sub.ssubscribe(cancelChannel("fake-pool"));
    sub.on("smessage", (_ch: string, rid: string) => published.push({ rid, at: performance.now() }));
    const ctl = new AbortController();
    const res = await post(chatUrl(), KEY, chatBody({ stream: true }), {}, ctl.signal);
    const rid = res.headers.get("x-request-id")!;
    const sse = new SseReader(res);
    const job = await h.pool.claim("ta");
    await h.pool.chunk(job.id, "first");
    await sse.nextEvent();
    const abortedAt = performance.now();
    ctl.abort();
    while (!published.some((p) => p.rid === rid)) await new Promise((r) => setTimeout(r, 1));
    const ms = published.find((p) => p.rid === rid)!.at - abortedAt;
    console.log(`abort -> cancel published: ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(1000);
    expect(await h.r.get(keys.cancel(rid))).toBe("client_disconnected");
    expect(await h.r.ttl(keys.cancel(rid))).toBeGreaterThan(0);
    await sub.sunsubscribe(cancelChannel("fake-pool"));
  });

  it("a client leaving a non-streaming request also cancels it", async () => {
    const ctl = new AbortController();
    const pending = post(chatUrl(), KEY, chatBody(), {}, ctl.signal).catch(() => null);
    const job = await h.pool.claim("ta");
    ctl.abort();
    await pending;
    while (!(await h.r.exists(keys.cancel(job.id)))) await new Promise((r) => setTimeout(r, 5));
    expect(await h.r.get(keys.cancel(job.id))).toBe("client_disconnected");
  });

  it("a finished request is not cancelled", async () => {
    const [res, job] = await Promise.all([post(chatUrl(), KEY, chatBody({ stream: true })), h.pool.serve("ta", ["done"])]);
    await res.text();
    expect(await h.r.exists(keys.cancel(job.id))).toBe(0);
  });
});

describe("cancel grace (cancelGraceMs > 0)", () => {
  it("a resume within the grace period keeps the request alive; otherwise it is cancelled", async () => {
    const edge = await startNodeEdge({ redisUrl: h.redis.url, port: 0, config: { cancelGraceMs: 300, modelCacheMs: 0 }, logger: pino({ level: "silent" }) });
    try {
      const url = edge.url + "/v1/chat/completions";
      const open = async () => {
        const ctl = new AbortController();
        const res = await post(url, KEY, chatBody({ stream: true }), {}, ctl.signal);
        const job = await h.pool.claim("ta");
        const id = await h.pool.chunk(job.id, "A");
        const sse = new SseReader(res);
        await sse.nextEvent();
        ctl.abort();
        return { rid: job.id, id, abortedAt: Date.now() };
      };
      // Dropped and resumed (through the other edge process) within the grace period.
      const kept = await open();
      const resumed = await post(chatUrl(), KEY, "", { "last-event-id": kept.id, "x-request-id": kept.rid });
      const rs = new SseReader(resumed);
      // Dropped for good.
      const dropped = await open();
      while (!(await h.r.exists(keys.cancel(dropped.rid)))) await new Promise((r) => setTimeout(r, 10));
      expect(Date.now() - dropped.abortedAt).toBeGreaterThanOrEqual(250);
      // The kept one's grace ended even earlier; it was not cancelled.
      expect(await h.r.exists(keys.cancel(kept.rid))).toBe(0);
      await h.pool.chunk(kept.rid, "B", "stop");
      await h.pool.done(kept.rid);
      expect(chatTextOf(await rs.rest())).toBe("B");
    } finally {
      await edge.close();
    }
  });
});
