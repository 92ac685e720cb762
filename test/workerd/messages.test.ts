// The Anthropic Messages API in the Workers build (real workerd), in front of
// the real pool and a simulated worker: one streamed message through the
// official @anthropic-ai/sdk client, with the event-order invariants, the
// Anthropic rate-limit headers, and an Anthropic-shaped error from the auth
// middleware. The Workers build has no other path: same app, same translators.
import type { Redis } from "ioredis";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SimWorker } from "../../sim/server.js";
import { expectEventOrder, type StreamEvent } from "../messages/helpers.js";
import { expectNoWorkerConnections, type Workerd } from "./helpers.js";
import { startRealStack, type RealStack } from "./real-stack.js";

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
