// The Workers build in real workerd on a 3-master Redis Cluster (REDIS_CLUSTER_NODES):
// every request opens its own Cluster client (edge/worker/redis.ts), so its keys,
// the model's queue and the tenant's quota keys are reached on whichever master owns
// them. Streams through the official SDKs, resume, the admin API (hash-tagged key
// index), cancel on disconnect by sharded pub/sub, and no connection left on any node.
import Anthropic from "@anthropic-ai/sdk";
import type { Redis } from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SimWorker } from "../../sim/server.js";
import { keys } from "../../contract/queue/keys.js";
import { SseReader, chatTextOf, post } from "../edge/helpers.js";
import { expectNoWorkerConnections, workerConnections, type Workerd } from "../workerd/helpers.js";
import { dropStreamAndAwaitCancel, startRealStack, type RealStack } from "../workerd/real-stack.js";

const KEY = "sk-workerd-cluster";
const ADMIN = "admin-token-cluster-0123";
let stack: RealStack;
let r: Redis;
let sim: SimWorker;
let wd: Workerd;

beforeAll(async () => {
  stack = await startRealStack("wc", KEY, { ADMIN_TOKEN: ADMIN, EDGE_QUOTAS: "true" }, "cluster");
  ({ r, sim, wd } = stack);
});
afterAll(async () => stack?.stop());

it("streams a chat completion through workerd on a cluster, and resumes it from the start", async () => {
  const client = new OpenAI({ baseURL: wd.url + "/v1", apiKey: KEY, maxRetries: 0 });
  const { data: stream, response } = await client.chat.completions
    .create({ model: sim.model, messages: [{ role: "user", content: "Tell me a story" }], max_tokens: 24, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  // the tenant's quota keys answered through the Worker's cluster client
  expect(response.headers.get("x-ratelimit-limit-tokens")).toBe("100000");
  const rid = response.headers.get("x-request-id")!;
  let text = "";
  let usage;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    usage ??= chunk.usage ?? undefined;
  }
  expect(text.length).toBeGreaterThan(0);
  expect(usage?.completion_tokens).toBe(24);

  const replay = await new SseReader(await post(wd.url + "/v1/chat/completions", KEY, "", { "last-event-id": "0", "x-request-id": rid })).rest();
  expect(chatTextOf(replay)).toBe(text);
  await expectNoWorkerConnections(r);
});

it("serves the Messages API through the same core", async () => {
  const client = new Anthropic({ baseURL: wd.url, apiKey: KEY, maxRetries: 0 });
  const msg = await client.messages.create({ model: sim.model, max_tokens: 16, messages: [{ role: "user", content: "Hi there" }] });
  expect(msg.usage.output_tokens).toBe(16);
  expect(msg.stop_reason).toBe("max_tokens");
  expect(msg.content[0]?.type).toBe("text");
});

it("the admin API creates a tenant and a key that the next request can use", async () => {
  const admin = (path: string, body: unknown) =>
    fetch(`${wd.url}/admin/v1${path}`, { method: "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const tenant = (await (await admin("/tenants", { name: "Cluster tenant", limits: { requests_per_minute: 5 } })).json()) as { id: string };
  const created = await admin(`/tenants/${tenant.id}/keys`, { name: "k1" });
  expect(created.status).toBe(201);
  const { key } = (await created.json()) as { key: string };
  const client = new OpenAI({ baseURL: wd.url + "/v1", apiKey: key, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: sim.model, messages: [{ role: "user", content: "Hello" }], max_tokens: 4 }).withResponse();
  expect(data.usage?.completion_tokens).toBe(4);
  expect(response.headers.get("x-ratelimit-limit-requests")).toBe("5");
  expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("4");
});

it("a client dropping a stream makes the simulated worker see the cancel (sharded pub/sub to the owning pool)", async () => {
  // while the stream is open it holds its request's own cluster connections
  const { rid } = await dropStreamAndAwaitCancel(stack, KEY, async () => expect(await workerConnections(r)).toBeGreaterThan(0));
  expect(await r.get(keys.cancel(rid))).toBe("client_disconnected");
  await expectNoWorkerConnections(r);
});
