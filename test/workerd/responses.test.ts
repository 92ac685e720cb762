// The Responses API on the Workers build in real workerd, in front of the
// real pool and a simulated worker: one streamed response through the
// official openai client (semantic events in order, usage, rate-limit
// headers), then stored by the relay's end hook (ctx.waitUntil on its own
// connection) and retrieved.
import type { Redis } from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SimWorker } from "../../sim/server.js";
import { keys } from "../../contract/queue/keys.js";
import { waitFor } from "../../scripts/wait.js";
import { checkEventOrder, textOf } from "../responses/helpers.js";
import { expectNoWorkerConnections, type Workerd } from "./helpers.js";
import { startRealStack, type RealStack } from "./real-stack.js";

const KEY = "sk-workerd-responses";
let stack: RealStack;
let r: Redis;
let sim: SimWorker;
let wd: Workerd;

beforeAll(async () => {
  stack = await startRealStack("wr", KEY);
  ({ r, sim, wd } = stack);
});
afterAll(async () => stack?.stop());

it("streams a response through workerd, then retrieves it stored", async () => {
  const client = new OpenAI({ baseURL: wd.url + "/v1", apiKey: KEY, maxRetries: 0 });
  const { data: stream, response } = await client.responses
    .create({ model: sim.model, input: "Tell me a story", instructions: "Be vivid.", max_output_tokens: 24, stream: true })
    .withResponse();
  expect(response.headers.get("x-ratelimit-limit-tokens")).toBe("100000");
  const events: Parameters<typeof checkEventOrder>[0][number][] = [];
  for await (const e of stream) events.push(e as never);
  checkEventOrder(events);
  const last = events[events.length - 1]!;
  expect(last.type).toBe("response.incomplete");
  const final = last.response as OpenAI.Responses.Response;
  expect(final.usage!.output_tokens).toBe(24);
  expect(textOf(final)).toBe(events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join(""));
  // Made final by the end hook (nobody has read it yet).
  await waitFor(async () => (await r.hget(keys.storedResponse("wr", final.id), "s")) === "done", "the end hook to store the response");
  const stored = await client.responses.retrieve(final.id);
  expect(stored.output).toEqual(final.output);
  expect(stored.instructions).toBe("Be vivid.");
  await expectNoWorkerConnections(r);
});
