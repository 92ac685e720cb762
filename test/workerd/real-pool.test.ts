// The Workers build in real workerd in front of the real pool and a simulated
// TokenSpeed worker (both in-process): a stream served end to end, and a
// client that drops a stream mid-way makes the worker see the gRPC cancel
// (workerd request signal -> ctx.waitUntil cancel -> Redis -> pool -> gRPC).
import type { Redis } from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SimWorker } from "../../sim/server.js";
import { keys } from "../../contract/queue/keys.js";
import { expectNoWorkerConnections, type Workerd } from "./helpers.js";
import { dropStreamAndAwaitCancel, startRealStack, type RealStack } from "./real-stack.js";

const KEY = "sk-workerd-real-pool";
let stack: RealStack;
let r: Redis;
let sim: SimWorker;
let wd: Workerd;

beforeAll(async () => {
  stack = await startRealStack("rp", KEY);
  ({ r, sim, wd } = stack);
});
afterAll(async () => stack?.stop());

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
  const { rid, ms } = await dropStreamAndAwaitCancel(stack, KEY);
  console.log(`workerd: client abort -> worker cancel ${ms.toFixed(0)} ms`);
  expect(ms).toBeGreaterThanOrEqual(0);
  expect(ms).toBeLessThan(2_000);
  expect(await r.get(keys.cancel(rid))).toBe("client_disconnected");
  await expectNoWorkerConnections(r);
});
