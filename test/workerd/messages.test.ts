// The Anthropic Messages API in the Workers build (real workerd), in front of
// the real pool and a simulated worker: one streamed message through the
// official @anthropic-ai/sdk client, with the event-order invariants, the
// Anthropic rate-limit headers, and an Anthropic-shaped error from the auth
// middleware; a request over its tenant's limit is a RateLimitError that leaves
// nothing in Redis (admission rode in the enqueue's pipeline, whose gate dropped it).
// The Workers build has no other path: same app, same translators.
import type { Redis } from "ioredis";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SimWorker } from "../../sim/server.js";
import { expectEventOrder, type StreamEvent } from "../messages/helpers.js";
import { expectNoWorkerConnections, type Workerd } from "./helpers.js";
import { startRealStack, type RealStack } from "./real-stack.js";
import { seedApiKey } from "../../edge/tenants.js";
import { keys } from "../../contract/queue/keys.js";

const KEY = "sk-workerd-messages";
let stack: RealStack;
let r: Redis;
let sim: SimWorker;
let wd: Workerd;

beforeAll(async () => {
  stack = await startRealStack("wm", KEY, { EDGE_QUOTAS: "true" });
  ({ r, sim, wd } = stack);
});
afterAll(async () => stack?.stop());

it("streams a message from the simulated worker through workerd with the SDK's messages.stream", async () => {
  const client = new Anthropic({ baseURL: wd.url, apiKey: KEY, maxRetries: 0 });
  const events: StreamEvent[] = [];
  let text = "";
  const s = client.messages.stream({ model: sim.model, max_tokens: 24, system: "Be brief.", messages: [{ role: "user", content: "Tell me a story" }] });
  s.on("streamEvent", (e) => events.push(e));
  s.on("text", (t) => (text += t));
  const m = await s.finalMessage();
  expectEventOrder(events);
  expect(m.id).toMatch(/^msg_/);
  expect(m.stop_reason).toBe("max_tokens");
  expect(m.usage.output_tokens).toBe(24);
  expect(m.usage.input_tokens + (m.usage.cache_read_input_tokens ?? 0)).toBeGreaterThan(0);
  expect(text.length).toBeGreaterThan(0);
  expect(m.content).toEqual([{ type: "text", text, citations: null }]);
  const headers = (await s.withResponse()).response.headers;
  expect(headers.get("anthropic-ratelimit-tokens-limit")).toBe("100000");
  expect(headers.get("x-ratelimit-limit-tokens")).toBe("100000");

  const bad = await new Anthropic({ baseURL: wd.url, apiKey: "sk-wrong", maxRetries: 0 }).messages
    .create({ model: sim.model, max_tokens: 4, messages: [{ role: "user", content: "Hi" }] })
    .catch((e: unknown) => e);
  expect(bad).toBeInstanceOf(Anthropic.AuthenticationError);
  expect((bad as InstanceType<typeof Anthropic.AuthenticationError>).type).toBe("authentication_error");
  await expectNoWorkerConnections(r);
});

it("a request over its tenant's limit is a RateLimitError and leaves nothing queued", async () => {
  const key = "sk-workerd-messages-rpm1";
  await seedApiKey(r, { tenantId: "wm-rpm1", key, limits: { requests_per_minute: 1 } });
  const client = new Anthropic({ baseURL: wd.url, apiKey: key, maxRetries: 0 });
  const body = { model: sim.model, max_tokens: 4, messages: [{ role: "user" as const, content: "Hi" }] };
  expect((await client.messages.create(body)).usage.output_tokens).toBe(4);
  const refused = await client.messages.create(body).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(Anthropic.RateLimitError);
  const rid = (refused as InstanceType<typeof Anthropic.RateLimitError>).requestID!;
  expect(rid).toBeTruthy();
  for (const k of [keys.meta(rid), keys.pushTo(rid), keys.out(rid)]) expect(await r.exists(k), k).toBe(0);
  expect(await r.hexists(keys.jobs(sim.model), rid)).toBe(0);
  await expectNoWorkerConnections(r);
});
