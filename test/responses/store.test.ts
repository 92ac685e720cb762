// Stored responses through the official openai client: retrieve, input_items,
// delete, previous_response_id across three turns (the chain is rebuilt
// server-side and charged as prompt tokens), tenant isolation (every id of
// another tenant is a 404), the per-tenant byte limit, and a response that
// is stored although its client left before the end.
import OpenAI, { type APIError, NotFoundError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys, utcDay } from "../../contract/queue/keys.js";
import { waitFor } from "../../scripts/wait.js";
import { checkEventOrder, RATE_LIMITS, responsesStack, streamed, SIM_MODEL, textOf, type Env } from "./helpers.js";

const KEY = "sk-responses-store-01";
const OTHER = "sk-responses-other-02";
const SMALL = "sk-responses-small-03";
let env: Env;
let other: OpenAI;
let small: OpenAI;
beforeAll(async () => {
  env = await responsesStack(KEY);
  await env.stack.seed({ tenantId: "t-other", key: OTHER, limits: RATE_LIMITS });
  await env.stack.seed({ tenantId: "t-small", key: SMALL, limits: { ...RATE_LIMITS, max_stored_response_bytes: 6000 } });
  other = env.clientFor(OTHER);
  small = env.clientFor(SMALL);
});
afterAll(async () => {
  await env?.stack.stop();
});

describe("retrieve, input_items, delete", () => {
  it("retrieve returns the stored response, equal to the one created", async () => {
    const r = await env.client.responses.create({ model: SIM_MODEL, input: "Remember me.", max_output_tokens: 16, metadata: { k: "v" } });
    expect((r as unknown as { store: boolean }).store).toBe(true);
    const got = await env.client.responses.retrieve(r.id);
    expect(got.id).toBe(r.id);
    expect(got.status).toBe(r.status);
    expect(got.output).toEqual(r.output);
    expect(got.usage).toEqual(r.usage);
    expect(got.metadata).toEqual({ k: "v" });
  });

  it("a streamed response is stored too, equal to its response.completed object", async () => {
    const { events } = await streamed(env.client, { model: SIM_MODEL, input: "Stream and store.", max_output_tokens: 16 });
    const last = events[events.length - 1]!.response as OpenAI.Responses.Response;
    const got = await env.client.responses.retrieve(last.id);
    expect(got.output).toEqual(last.output);
    expect(got.status).toBe(last.status);
  });

  it("input_items lists the input (desc by default, asc on request, paged with after)", async () => {
    const r = await env.client.responses.create({
      model: SIM_MODEL,
      max_output_tokens: 8,
      input: [
        { role: "user", content: "one" },
        { role: "assistant", content: "two" },
        { role: "user", content: [{ type: "input_text", text: "three" }] },
      ],
    });
    const desc = await env.client.responses.inputItems.list(r.id);
    const texts = (page: typeof desc) => page.data.map((it) => (it.type === "message" ? (it.content[0] as { text: string }).text : it.type));
    expect(texts(desc)).toEqual(["three", "two", "one"]);
    const asc = await env.client.responses.inputItems.list(r.id, { order: "asc", limit: 2 });
    expect(texts(asc)).toEqual(["one", "two"]);
    expect(asc.has_more).toBe(true);
    const next = await env.client.responses.inputItems.list(r.id, { order: "asc", after: asc.data[1]!.id! });
    expect(texts(next)).toEqual(["three"]);
    for (const it of desc.data) expect(it.id).toBeTruthy();
  });

  it("delete removes it: retrieve and input_items are then 404", async () => {
    const r = await env.client.responses.create({ model: SIM_MODEL, input: "Forget me.", max_output_tokens: 8 });
    await env.client.responses.delete(r.id);
    await expect(env.client.responses.retrieve(r.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(env.client.responses.inputItems.list(r.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(env.client.responses.delete(r.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("store: false keeps nothing", async () => {
    const r = await env.client.responses.create({ model: SIM_MODEL, input: "Ephemeral.", max_output_tokens: 8, store: false });
    expect((r as unknown as { store: boolean }).store).toBe(false);
    await expect(env.client.responses.retrieve(r.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("with EDGE_RESPONSE_STORE_TTL_S=0 nothing is stored and responses say store: false", async () => {
    const edge = await env.stack.addEdge({ responseStoreTtlS: 0 });
    const c = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const r = await c.responses.create({ model: SIM_MODEL, input: "Not kept.", max_output_tokens: 8 });
    expect((r as unknown as { store: boolean }).store).toBe(false);
    await expect(c.responses.retrieve(r.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(c.responses.create({ model: SIM_MODEL, input: "go on", previous_response_id: r.id })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("unknown ids are 404 in OpenAI's error shape", async () => {
    const res = await fetch(`${env.stack.url}/v1/responses/resp_nope`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { type: string; code: string } };
    expect(body.error.code).toBe("not_found");
    const weird = await fetch(`${env.stack.url}/v1/responses/${encodeURIComponent("}:x{")}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(weird.status).toBe(404);
  });
});

describe("previous_response_id", () => {
  it("continues a conversation across three turns; the chain is rebuilt and charged as prompt tokens", async () => {
    const tenant = "t-" + KEY.slice(-6);
    const day = utcDay(Date.now());
    const before = Number((await env.stack.r.hget(keys.usage(tenant, day), "prompt_tokens")) ?? 0);
    const t1 = await env.client.responses.create({ model: SIM_MODEL, input: "My name is Ada.", max_output_tokens: 16 });
    const t2 = await env.client.responses.create({ model: SIM_MODEL, input: "What is my name?", previous_response_id: t1.id, max_output_tokens: 16 });
    const { events } = await streamed(env.client, { model: SIM_MODEL, input: "And again?", previous_response_id: t2.id, max_output_tokens: 16 });
    // the terminal event's object (responses.stream's finalResponse keeps no usage when the output limit cut it)
    const t3 = events[events.length - 1]!.response as OpenAI.Responses.Response;
    expect(t2.previous_response_id).toBe(t1.id);
    expect(t3.previous_response_id).toBe(t2.id);
    // Each turn's prompt holds the turns before it.
    expect(t2.usage!.input_tokens).toBeGreaterThan(t1.usage!.input_tokens + t1.usage!.output_tokens);
    expect(t3.usage!.input_tokens).toBeGreaterThan(t2.usage!.input_tokens + t2.usage!.output_tokens);
    // The whole conversation is the third response's input.
    const items = await env.client.responses.inputItems.list(t3.id, { order: "asc" });
    const roles = items.data.map((it) => (it.type === "message" ? it.role : it.type));
    expect(roles).toEqual(["user", "assistant", "user", "assistant", "user"]);
    const first = items.data[0]!;
    expect(first.type === "message" && (first.content[0] as { text: string }).text).toBe("My name is Ada.");
    const answer = items.data[3]!;
    expect(answer.type === "message" && (answer.content[0] as { text: string }).text).toBe(t2.output_text);
    expect(textOf(t3).length).toBeGreaterThan(0);
    // Quotas saw the rebuilt prompts: the tenant's prompt tokens grew by exactly the three prompts.
    await waitFor(async () => {
      const after = Number((await env.stack.r.hget(keys.usage(tenant, day), "prompt_tokens")) ?? 0);
      return after - before === t1.usage!.input_tokens + t2.usage!.input_tokens + t3.usage!.input_tokens;
    }, "usage settled");
  });

  it("an unknown previous_response_id is a 404 naming the param", async () => {
    const res = await fetch(`${env.stack.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: SIM_MODEL, input: "hi", previous_response_id: "resp_doesnotexist" }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("previous_response_id");
  });
});

describe("tenant isolation", () => {
  it("another tenant cannot read, list, delete or continue a response: all 404, and the owner still has it", async () => {
    const r = await env.client.responses.create({ model: SIM_MODEL, input: "Secret of tenant one.", max_output_tokens: 8 });
    await expect(other.responses.retrieve(r.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(other.responses.inputItems.list(r.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(other.responses.delete(r.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(other.responses.create({ model: SIM_MODEL, input: "go on", previous_response_id: r.id })).rejects.toBeInstanceOf(NotFoundError);
    const mine = await env.client.responses.retrieve(r.id);
    expect(mine.output).toEqual(r.output);
  });

  it("resuming another tenant's stream is a 404", async () => {
    const r = await env.client.responses.create({ model: SIM_MODEL, input: "x", max_output_tokens: 4, stream: true });
    const events: Parameters<typeof checkEventOrder>[0][number][] = [];
    for await (const e of r) events.push(e as never);
    checkEventOrder(events);
    const id = (events[0]!.response as { id: string }).id;
    const res = await fetch(`${env.stack.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${OTHER}`, "x-request-id": id, "last-event-id": "0" },
    });
    expect(res.status).toBe(404);
  });
});

describe("the per-tenant storage limit", () => {
  it("refuses to store beyond max_stored_response_bytes (400, param store) before generating; deleting frees room", async () => {
    const made: string[] = [];
    let refused: APIError | null = null;
    for (let i = 0; i < 20 && !refused; i++) {
      try {
        made.push((await small.responses.create({ model: SIM_MODEL, input: "x".repeat(500), max_output_tokens: 8 })).id);
      } catch (err) {
        refused = err as APIError;
      }
    }
    expect(made.length).toBeGreaterThan(0);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused!.error as { param: string }).param).toBe("store");
    const bytes = Number(await env.stack.r.hget(keys.storedBytes("t-small"), "@sum"));
    expect(bytes).toBeLessThanOrEqual(6000 + made.length * 2000); // outputs may go past the limit, inputs never
    // store: false still works, and deleting one makes room again.
    expect((await small.responses.create({ model: SIM_MODEL, input: "x".repeat(500), max_output_tokens: 8, store: false })).status).not.toBe("failed");
    for (const id of made) await small.responses.delete(id);
    expect(Number(await env.stack.r.hget(keys.storedBytes("t-small"), "@sum"))).toBe(0);
    const again = await small.responses.create({ model: SIM_MODEL, input: "x".repeat(500), max_output_tokens: 8 });
    expect((await small.responses.retrieve(again.id)).id).toBe(again.id);
  });
});

describe("a client that leaves before the end", () => {
  it("a resumable stream the client dropped is still stored complete once it finished", async () => {
    const ac = new AbortController();
    const res = await fetch(`${env.stack.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", "x-resumable": "true" },
      body: JSON.stringify({ model: SIM_MODEL, input: "A long tale.", max_output_tokens: 200, stream: true }),
      signal: ac.signal,
    });
    const id = res.headers.get("x-request-id")!;
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    const got = await waitFor(async () => {
      const r = await env.client.responses.retrieve(id);
      return r.status !== "in_progress" ? r : null;
    }, "the response to finish");
    expect(got.status).toBe("incomplete");
    expect(got.usage!.output_tokens).toBe(200);
    expect(textOf(got).length).toBeGreaterThan(0);
  });
});
