// A Messages request's life beyond its answer, through the same submit path and
// relay as chat: the tenant's usage is settled to exactly what the response
// reports, a client that drops a stream cancels the generation on the worker, and
// one that said it would resume (x-resumable) picks the stream up with Last-Event-ID.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys, utcDay } from "../../contract/queue/keys.js";
import type { FullStack } from "../helpers/full-stack.js";
import { waitFor } from "../../scripts/wait.js";
import { anthropicClient, expectEventOrder, messagesStack, parseSse, post, SIM_MODEL, type StreamEvent } from "./helpers.js";

const KEY = "sk-messages-life-0001";
let stack: FullStack;

beforeAll(async () => {
  ({ stack } = await messagesStack(KEY, { sim: { decodeMsPerToken: 2 }, edge: { resumeGraceMs: 5_000 } }));
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

/** SSE events with their ids, from raw body text (complete events only). */
function sseWithIds(text: string): { id: string | null; ev: StreamEvent & Record<string, any> }[] {
  const out: { id: string | null; ev: StreamEvent & Record<string, any> }[] = [];
  for (const block of text.split("\n\n").slice(0, -1)) {
    const id = /^id: (.*)$/m.exec(block)?.[1] ?? null;
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (data !== undefined) out.push({ id, ev: JSON.parse(data) });
  }
  return out;
}

const textOf = (events: StreamEvent[]) => events.map((e) => (e.type === "content_block_delta" && e.delta?.type === "text_delta" ? (e as any).delta.text : "")).join("");

describe("resume with Last-Event-ID", () => {
  it("a dropped stream continues inside its open block, and the pieces make a well-formed message", async () => {
    const ctl = new AbortController();
    const body = { model: SIM_MODEL, max_tokens: 200, stream: true, messages: [{ role: "user", content: "A long story, please." }] };
    const res = await fetch(`${stack.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": KEY, "x-resumable": "true" },
      body: JSON.stringify(body),
      signal: ctl.signal,
    });
    const rid = res.headers.get("x-request-id")!;
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let first: ReturnType<typeof sseWithIds> = [];
    while (!first.some((e) => e.ev.type === "content_block_delta")) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      text += decoder.decode(value, { stream: true });
      first = sseWithIds(text);
    }
    ctl.abort();
    const lastId = first.at(-1)!.id!;
    expect(first[0]!.ev.type).toBe("message_start");

    const resumed = await post(`${stack.url}/v1/messages`, KEY, "ignored", { "x-request-id": rid, "last-event-id": lastId });
    expect(resumed.status).toBe(200);
    const rest = parseSse(await resumed.text()).map((e) => JSON.parse(e.data) as StreamEvent);
    expect(rest.some((e) => e.type === "message_start")).toBe(false);
    const joined = [...first.map((e) => e.ev), ...rest];
    expectEventOrder(joined);

    // The whole response again from the start: the same message.
    const all = await post(`${stack.url}/v1/messages`, KEY, "", { "x-request-id": rid, "last-event-id": "0" });
    const full = parseSse(await all.text()).map((e) => JSON.parse(e.data) as StreamEvent & Record<string, any>);
    expectEventOrder(full);
    expect(textOf(joined)).toBe(textOf(full));
    expect(full.find((e) => e.type === "message_delta")!.usage.output_tokens).toBe(200);
    expect(await stack.r.exists(keys.cancel(rid))).toBe(0);

    // Another tenant cannot resume it.
    await stack.seed({ tenantId: "intruder", key: "sk-messages-intruder-1" });
    const stolen = await post(`${stack.url}/v1/messages`, "sk-messages-intruder-1", "", { "x-request-id": rid, "last-event-id": "0" });
    expect(stolen.status).toBe(404);
    expect(((await stolen.json()) as { error: { type: string } }).error.type).toBe("not_found_error");
  });
});
