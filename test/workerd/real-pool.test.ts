// The Workers build in real workerd in front of the real pool and a simulated
// TokenSpeed worker (both in-process): a stream served end to end, and a
// client that drops a stream mid-way makes the worker see the gRPC cancel
// (workerd request signal -> ctx.waitUntil cancel -> Redis -> pool -> gRPC).
import type { Redis } from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startPool, type PoolHandle } from "../../pool/main.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { keys } from "../../contract/queue/keys.js";
import { seedApiKey } from "../../edge/tenants.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { SseReader, post } from "../edge/helpers.js";
import { buildWorker, expectNoWorkerConnections, startWorkerd, type WorkerBuild, type Workerd } from "./helpers.js";

let build: WorkerBuild;
let redis: RedisServer;
let r: Redis;
let sim: SimWorker;
let pool: PoolHandle;
let wd: Workerd;
const KEY = "sk-workerd-real-pool";

beforeAll(async () => {
  [build, redis, sim] = await Promise.all([buildWorker(), startRedis(), startSimWorker({ port: 0, decodeMsPerToken: 2, decodeMsPerRunning: 0 })]);
  r = redis.client();
  await seedApiKey(r, { tenantId: "rp", key: KEY, limits: { requests_per_minute: 100, tokens_per_minute: 100_000 } });
  [pool, wd] = await Promise.all([
    startPool({ redisUrl: redis.url, workers: [sim.address], logLevel: "error" }),
    startWorkerd(build, [{ name: "edge", bindings: { REDIS_URL: redis.url, EDGE_KEEPALIVE_MS: "1000" } }]),
  ]);
});
afterAll(async () => {
  await wd?.stop();
  await pool?.stop();
  await sim?.stop(100);
  await redis?.stop();
  await build?.remove();
});

it("streams a chat completion from the simulated worker through workerd", async () => {
  const client = new OpenAI({ baseURL: wd.url + "/v1", apiKey: KEY, maxRetries: 0 });
  const { data: stream, response } = await client.chat.completions
    .create({ model: sim.model, messages: [{ role: "user", content: "Tell me a story" }], max_tokens: 24, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  expect(response.headers.get("x-ratelimit-limit-tokens")).toBe("100000");
  let text = "";
  let usage;
  let finish;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    finish ??= chunk.choices[0]?.finish_reason ?? undefined;
    usage ??= chunk.usage ?? undefined;
  }
  expect(text.length).toBeGreaterThan(0);
  expect(finish).toBe("length");
  expect(usage?.completion_tokens).toBe(24);
  await expectNoWorkerConnections(r);
});

it("a client dropping a stream mid-way makes the simulated worker see the cancel", async () => {
  const ctl = new AbortController();
  const res = await post(
    wd.url + "/v1/chat/completions",
    KEY,
    JSON.stringify({ model: sim.model, stream: true, max_tokens: 20_000, messages: [{ role: "user", content: "A very long story, please." }] }),
    {},
    ctl.signal,
  );
  expect(res.status).toBe(200);
  const rid = res.headers.get("x-request-id")!;
  const cancelled = new Promise<number>((resolve) => {
    const on = (id: string, atMs: number) => {
      if (id !== rid) return;
      sim.events.off("cancel", on);
      resolve(atMs);
    };
    sim.events.on("cancel", on);
  });
  const finished = new Promise<string>((resolve) => sim.events.on("finish", (id: string) => id === rid && resolve(id)));
  const sse = new SseReader(res);
  for (let events = 0; events < 3; ) if ((await sse.next())?.kind === "event") events++;
  const abortedAt = performance.timeOrigin + performance.now();
  ctl.abort();
  const atMs = await Promise.race([cancelled, finished.then(() => Promise.reject(new Error("the generation finished instead of being cancelled")))]);
  const ms = atMs - abortedAt;
  console.log(`workerd: client abort -> worker cancel ${ms.toFixed(0)} ms`);
  expect(ms).toBeGreaterThanOrEqual(0);
  expect(ms).toBeLessThan(2_000);
  expect(await r.get(keys.cancel(rid))).toBe("client_disconnected");
  await expectNoWorkerConnections(r);
});
