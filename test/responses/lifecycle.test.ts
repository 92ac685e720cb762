// A streamed response's life beyond the happy path: a client that drops the
// stream makes the worker see the cancel (and the stored response says
// cancelled); a client that resumes with Last-Event-ID gets exactly the
// events it missed, numbered as in an unbroken stream.
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../scripts/wait.js";
import { checkEventOrder, parseSse, responsesStack, SIM_MODEL, type Env } from "./helpers.js";

const KEY = "sk-responses-life-01";
let env: Env;
beforeAll(async () => {
  env = await responsesStack(KEY);
});
afterAll(async () => {
  await env?.stack.stop();
});

const post = (body: object, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${env.stack.url}/v1/responses`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal,
  });

describe("disconnect", () => {
  it("a client that drops the stream makes the worker see the cancel; the stored response is cancelled", async () => {
    const workers = env.stack.workers;
    const started = new Promise<string>((resolve) => workers.forEach((w) => w.events.once("start", resolve)));
    const cancelled = new Promise<string>((resolve) => workers.forEach((w) => w.events.on("cancel", (rid: string) => resolve(rid))));
    const ac = new AbortController();
    const stream = await env.client.responses.create(
      { model: SIM_MODEL, input: "Write a very long story.", max_output_tokens: 2000, stream: true },
      { signal: ac.signal },
    );
    let id = "";
    let deltas = 0;
    const events: Parameters<typeof checkEventOrder>[0][number][] = [];
    try {
      for await (const e of stream) {
        events.push(e as never);
        if (e.type === "response.created") id = e.response.id;
        if (e.type === "response.output_text.delta" && ++deltas === 5) ac.abort();
      }
    } catch (err) {
      expect((err as Error).name).toMatch(/Abort/);
    }
    checkEventOrder(events, { partial: true });
    expect(deltas).toBeGreaterThanOrEqual(5); // events already buffered may still arrive after the abort
    expect(await started).toBe(id);
    expect(await cancelled).toBe(id);
    const stored = await waitFor(async () => {
      const r = await env.client.responses.retrieve(id);
      return r.status !== "in_progress" ? r : null;
    }, "the cancelled response to be final");
    expect(stored.status).toBe("cancelled");
    expect(stored.usage).toBeNull();
  });
});

describe("resume with Last-Event-ID", () => {
  it("sends only the missed events, with the sequence numbers and final object of an unbroken stream", async () => {
    const body = { model: SIM_MODEL, input: "Tell me something.", max_output_tokens: 40, stream: true };
    const res = await post(body);
    const rid = res.headers.get("x-request-id")!;
    const text = await res.text();
    const all = parseSse(text);
    checkEventOrder(all);
    // The SSE ids of the stream's entries, in order; resume after the second one.
    const ids = [...new Set([...text.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]!))];
    expect(ids.length).toBeGreaterThan(2);
    const resumed = await post({}, { "x-request-id": rid, "last-event-id": ids[1]! });
    expect(resumed.status).toBe(200);
    const rest = parseSse(await resumed.text());
    expect(rest.length).toBeGreaterThan(0);
    const tail = all.slice(all.length - rest.length);
    expect(rest).toEqual(tail);
    expect(rest[0]!.sequence_number).toBeGreaterThan(2);
    // From the start: the whole stream again.
    const replay = parseSse(await (await post({}, { "x-request-id": rid, "last-event-id": "0" })).text());
    expect(replay).toEqual(all);
    const last = replay[replay.length - 1]!.response as OpenAI.Responses.Response;
    expect(last.id).toBe(rid);
  });

  it("resuming a non-streamed response with Last-Event-ID 0 returns its object", async () => {
    const res = await post({ model: SIM_MODEL, input: "hi", max_output_tokens: 8 });
    const first = (await res.json()) as OpenAI.Responses.Response;
    const again = (await (await post({}, { "x-request-id": first.id, "last-event-id": "0" })).json()) as OpenAI.Responses.Response;
    expect(again).toEqual(first);
  });
});
