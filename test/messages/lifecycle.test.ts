// A Messages request's life beyond its answer, through the same submit path and
// relay as chat: the tenant's usage is settled to exactly what the response
// reports, and a client that drops a stream cancels the generation on the worker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys, utcDay } from "../../contract/queue/keys.js";
import type { FullStack } from "../helpers/full-stack.js";
import { waitFor } from "../helpers/wait.js";
import { anthropicClient, expectEventOrder, messagesStack, SIM_MODEL, type StreamEvent } from "./helpers.js";

const KEY = "sk-messages-life-0001";
let stack: FullStack;

beforeAll(async () => {
  ({ stack } = await messagesStack(KEY, { sim: { decodeMsPerToken: 2 } }));
});
afterAll(async () => {
  await stack?.stop();
});

describe("settlement", () => {
  it("the tenant's usage counters equal the usage the Message reported", async () => {
    await stack.seed({ tenantId: "settle", key: "sk-messages-settle-01", limits: { tokens_per_minute: 1_000_000 } });
    const client = anthropicClient(stack.url, "sk-messages-settle-01");
    const m = await client.messages.create({ model: SIM_MODEL, max_tokens: 25, messages: [{ role: "user", content: "Count to ten." }] });
    const usageKey = keys.usage("settle", utcDay(Date.now()));
    const u = await waitFor(async () => {
      const h = await stack.r.hgetall(usageKey);
      return h.requests === "1" ? h : undefined;
    }, "the settlement of the request");
    expect(Number(u.prompt_tokens)).toBe(m.usage.input_tokens + (m.usage.cache_read_input_tokens ?? 0));
    expect(Number(u.completion_tokens)).toBe(m.usage.output_tokens);
    expect(Number(u.cached_tokens)).toBe(m.usage.cache_read_input_tokens);
  });
});

describe("cancel on disconnect", () => {
  it("aborting a stream mid-way cancels the request and the worker's Generate call", async () => {
    const cancelled: string[] = [];
    stack.workers[0]!.events.on("cancel", (rid: string) => cancelled.push(rid));
    const client = anthropicClient(stack.url, KEY);
    const events: StreamEvent[] = [];
    const s = client.messages.stream({ model: SIM_MODEL, max_tokens: 3000, messages: [{ role: "user", content: "Tell a very long story." }] });
    const ended = s.finalMessage().then(
      () => "finished",
      (e: Error) => e.name,
    );
    let id = "";
    await new Promise<void>((resolve) =>
      s.on("streamEvent", (e) => {
        events.push(e);
        if (e.type === "message_start") id = e.message.id;
        if (e.type === "content_block_delta") resolve();
      }),
    );
    s.abort();
    expect(await ended).toBe("APIUserAbortError");
    await waitFor(async () => cancelled.includes(id), "the worker to see the cancel");
    expect(await stack.r.get(keys.cancel(id))).toBe("client_disconnected");
    // What was received before the abort still follows the grammar so far.
    expect(events[0]!.type).toBe("message_start");
    expect(events.filter((e) => e.type === "message_stop")).toHaveLength(0);
    expectEventOrder([...events, { type: "content_block_stop", index: 0 }, { type: "message_delta" }, { type: "message_stop" }]);
  });
});
