// The edge's API through the Workers build in real workerd: the official
// `openai` client (streamed and not), completions, client errors, the quota
// headers on every kind of response, configuration errors, and that each
// request's Redis connection is closed when its response ends. The test plays
// the pool through Redis (FakePool from test/edge).
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, freePort, type RedisServer } from "../helpers/redis.js";
import { FakePool, MODEL, chatBody, registerPool } from "../edge/helpers.js";
import { seedApiKey } from "../../edge/tenants.js";
import { buildWorker, post, expectNoWorkerConnections, startWorkerd, waitFor, type WorkerBuild, type Workerd } from "./helpers.js";
import type { Redis } from "ioredis";

let build: WorkerBuild;
let redis: RedisServer;
let r: Redis;
let wd: Workerd;
let pool: FakePool;
let client: OpenAI;
const KEY = "sk-workerd-api";
const ADMIN = "admin-token-0123456789";

beforeAll(async () => {
  [build, redis] = await Promise.all([buildWorker(), startRedis()]);
  r = redis.client();
  await registerPool(r, "pool-1", [MODEL]);
  await seedApiKey(r, { tenantId: "acme", key: KEY, limits: { requests_per_minute: 100, tokens_per_minute: 100_000 } });
  const closedPort = await freePort();
  wd = await startWorkerd(build, [
    { name: "edge", bindings: { REDIS_URL: redis.url, EDGE_MODEL_CACHE_MS: "0", ADMIN_TOKEN: ADMIN } },
    // KEEPALIVE_MS: a deprecated alias of EDGE_KEEPALIVE_MS, so its error must still name what the user set.
    { name: "misconfigured", bindings: { REDIS_URL: "http://nope", KEEPALIVE_MS: "soon", ADMIN_TOKEN: "short" } },
    { name: "redis-down", bindings: { REDIS_URL: `redis://127.0.0.1:${closedPort}` } },
    { name: "with-password", bindings: { REDIS_URL: redis.url, REDIS_PASSWORD: "s3cret-pass" } },
  ]);
  pool = new FakePool(redis);
  client = new OpenAI({ baseURL: wd.url + "/v1", apiKey: KEY, maxRetries: 0 });
});
afterAll(async () => {
  await wd?.stop();
  await redis?.stop();
  await build?.remove();
});

const chatUrl = () => wd.url + "/v1/chat/completions";

function rateLimit(h: Headers) {
  return {
    limitRequests: h.get("x-ratelimit-limit-requests"),
    remainingRequests: Number(h.get("x-ratelimit-remaining-requests")),
    limitTokens: h.get("x-ratelimit-limit-tokens"),
    remainingTokens: Number(h.get("x-ratelimit-remaining-tokens")),
    resetRequests: h.get("x-ratelimit-reset-requests"),
  };
}

async function expectError(res: Response, status: number, code: string, param: string | null = null) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string } };
  expect(body.error).toMatchObject({ code, param });
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

describe("openai client against workerd", () => {
  it("non-streamed chat completion, with rate-limit headers", async () => {
    const [{ data: res, response }, job] = await Promise.all([
      client.chat.completions
        .create({ model: MODEL, messages: [{ role: "user", content: "Hi" }], max_tokens: 20, temperature: 0.5 })
        .withResponse(),
      pool.serve("acme", ["Hello", ", ", "workerd"], { prompt_tokens: 11, completion_tokens: 3, cached_tokens: 4 }),
    ]);
    expect(res.id).toBe(job.id);
    expect(res.object).toBe("chat.completion");
    expect(res.choices[0]!.message).toMatchObject({ role: "assistant", content: "Hello, workerd" });
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(res.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 });
    expect(job.sampling).toMatchObject({ max_tokens: 20, temperature: 0.5 });
    const rl = rateLimit(response.headers);
    expect(rl.limitRequests).toBe("100");
    expect(rl.limitTokens).toBe("100000");
    expect(rl.remainingRequests).toBeLessThan(100);
    expect(rl.remainingTokens).toBeLessThan(100_000);
    expect(rl.resetRequests).toMatch(/^\d+(ms|s|m\d+s)$/);
    expect(response.headers.get("x-request-id")).toBe(job.id);
  });

  it("streamed chat completion, with rate-limit headers on the stream", async () => {
    const served = pool.serve("acme", ["Stre", "am", "ed"], { prompt_tokens: 5, completion_tokens: 3, cached_tokens: 0 });
    const { data: stream, response } = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: "user", content: "go" }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const before = rateLimit(response.headers);
    expect(before.limitRequests).toBe("100");
    expect(before.remainingRequests).toBeLessThan(100);
    let text = "";
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const job = await served;
    for (const ch of chunks) text += ch.choices[0]?.delta.content ?? "";
    expect(text).toBe("Streamed");
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(chunks.every((c) => c.id === job.id)).toBe(true);
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0]!.finish_reason)).toEqual(["stop"]);
    expect(chunks[chunks.length - 1]!.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });

    // The next request sees the quota go down (one atomic admit per request).
    const served2 = pool.serve("acme", ["x"]);
    const next = await post(chatUrl(), KEY, chatBody({ stream: true }));
    await next.text();
    await served2;
    expect(rateLimit(next.headers).remainingRequests).toBe(before.remainingRequests - 1);
  });

  it("completion, non-streamed and streamed", async () => {
    const [res, job] = await Promise.all([
      client.completions.create({ model: MODEL, prompt: "Once upon a time", max_tokens: 5 }),
      pool.serve("acme", [" there", " was"]),
    ]);
    expect(res.id).toMatch(/^cmpl-/);
    expect(res.object).toBe("text_completion");
    expect(res.choices[0]).toMatchObject({ index: 0, text: " there was", finish_reason: "stop" });
    expect(job.kind).toBe("completion");
    expect(job.prompt).toBe("Once upon a time");

    const served = pool.serve("acme", ["a", "b"]);
    const stream = await client.completions.create({ model: MODEL, prompt: "single", stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe("ab");
    expect((await served).prompt).toBe("single");
  });
});

describe("client errors", () => {
  it("401 invalid_api_key for missing and unknown keys; the SDK sees AuthenticationError", async () => {
    await expectError(await post(chatUrl(), null, chatBody()), 401, "invalid_api_key");
    await expectError(await post(chatUrl(), "sk-unknown", chatBody()), 401, "invalid_api_key");
    await expectError(await fetch(wd.url + "/v1/models"), 401, "invalid_api_key");
    const bad = new OpenAI({ baseURL: wd.url + "/v1", apiKey: "sk-bad", maxRetries: 0 });
    await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("404 model_not_found with param model", async () => {
    await expectError(await post(chatUrl(), KEY, chatBody({ model: "nope" })), 404, "model_not_found", "model");
    const err = await client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.param).toBe("model");
  });

  it("400 with the offending field as param, and invalid_json", async () => {
    await expectError(await post(chatUrl(), KEY, chatBody({ max_tokens: "ten" })), 400, "invalid_request", "max_tokens");
    await expectError(await post(chatUrl(), KEY, chatBody({ temperature: 3 })), 400, "invalid_request", "temperature");
    await expectError(
      await post(chatUrl(), KEY, JSON.stringify({ model: MODEL, messages: [{ role: "user", content: 5 }] })),
      400,
      "invalid_request",
      "messages.0.content",
    );
    await expectError(await post(chatUrl(), KEY, "{"), 400, "invalid_json");
  });

  it("the admin API is enabled by the ADMIN_TOKEN secret", async () => {
    const list = await fetch(wd.url + "/admin/v1/tenants", { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { data: { id: string }[] }).data.map((t) => t.id)).toContain("acme");
    expect((await fetch(wd.url + "/admin/v1/tenants", { headers: { authorization: "Bearer wrong-token-0000000" } })).status).toBe(401);
  });
});

describe("runtime", () => {
  it("every per-request Redis connection is closed once its response ended", async () => {
    await expectNoWorkerConnections(r);
  });

  it("a bad configuration answers 500 naming each bad variable", async () => {
    const res = await fetch((await wd.urlOf("misconfigured")) + "/v1/models", { headers: { authorization: `Bearer ${KEY}` } });
    const err = await expectError(res, 500, "misconfigured");
    expect(err.message).toContain("REDIS_URL");
    expect(err.message).toContain("KEEPALIVE_MS");
    expect(err.message).toContain("ADMIN_TOKEN");
    // The Worker also logs it (workerd's stdout reaches us asynchronously).
    await waitFor("the config error in the Worker's log", () => wd.logs().includes("bad configuration: REDIS_URL"));
  });

  it("unreachable Redis is a 503 with Retry-After, not a hang or a 500", async () => {
    const res = await post((await wd.urlOf("redis-down")) + "/v1/chat/completions", KEY, chatBody());
    await expectError(res, 503, "service_unavailable");
    expect(res.headers.get("retry-after")).toBe("1");
  });

  it("REDIS_PASSWORD (a secret) authenticates the per-request connections", async () => {
    // Last test: from here on, new connections need the password (ours are already in).
    await r.config("SET", "requirepass", "s3cret-pass");
    try {
      const withPw = await fetch((await wd.urlOf("with-password")) + "/v1/models", { headers: { authorization: `Bearer ${KEY}` } });
      expect(withPw.status).toBe(200);
      expect(((await withPw.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual([MODEL]);
      const without = await fetch(wd.url + "/v1/models", { headers: { authorization: `Bearer ${KEY}` } });
      expect(without.status).toBeGreaterThanOrEqual(500);
    } finally {
      await r.config("SET", "requirepass", "");
    }
  });
});
