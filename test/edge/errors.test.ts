// Client mistakes get OpenAI-shaped 4xx errors with the right status, code and
// param, never a 500: bad keys, unknown models, wrong types, malformed JSON,
// oversized bodies, and 50 random malformed bodies.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODEL, chatBody, post, startHarness, type EdgeHarness } from "./helpers.js";

let h: EdgeHarness;
const KEY = "sk-errors-good";
const MAX_BODY = 64 * 1024;

beforeAll(async () => {
  h = await startHarness({ maxBodyBytes: MAX_BODY });
  await h.seed({ tenantId: "t1", key: KEY });
  await h.seed({ tenantId: "t1", key: "sk-errors-revoked", revoked: true });
  await h.seed({ tenantId: "t1", key: "sk-errors-expired", expiresAt: Date.now() - 1000 });
  await h.seed({ tenantId: "t1", key: "sk-errors-limited", models: ["other-model"] });
});
afterAll(() => h?.stop());

const chatUrl = () => h.edge.url + "/v1/chat/completions";

async function expectError(res: Response, status: number, code: string, param: string | null = null) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.param).toBe(param);
  expect(typeof body.error.message).toBe("string");
  expect(typeof body.error.type).toBe("string");
  return body;
}

describe("auth", () => {
  it("401 invalid_api_key for missing, unknown, revoked and expired keys", async () => {
    await expectError(await post(chatUrl(), null, chatBody()), 401, "invalid_api_key");
    await expectError(await post(chatUrl(), "sk-nope", chatBody()), 401, "invalid_api_key");
    await expectError(await post(chatUrl(), "sk-errors-revoked", chatBody()), 401, "invalid_api_key");
    await expectError(await post(chatUrl(), "sk-errors-expired", chatBody()), 401, "invalid_api_key");
    await expectError(await post(chatUrl(), KEY, chatBody(), { authorization: `Basic ${KEY}` }), 401, "invalid_api_key");
    await expectError(await fetch(h.edge.url + "/v1/models"), 401, "invalid_api_key");
  });

  it("the openai SDK surfaces 401 as AuthenticationError", async () => {
    const c = new OpenAI({ baseURL: h.edge.url + "/v1", apiKey: "sk-bad", maxRetries: 0 });
    await expect(c.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("403 when the key's model allow-list excludes the model", async () => {
    await expectError(await post(chatUrl(), "sk-errors-limited", chatBody()), 403, "permission_denied", "model");
    // ...and such a key does not see the model listed.
    const res = await fetch(h.edge.url + "/v1/models", { headers: { authorization: "Bearer sk-errors-limited" } });
    expect(((await res.json()) as { data: unknown[] }).data).toEqual([]);
  });
});

describe("validation", () => {
  it("404 model_not_found for a model no live pool serves", async () => {
    await expectError(await post(chatUrl(), KEY, chatBody({ model: "nope" })), 404, "model_not_found", "model");
    const res = await fetch(h.edge.url + "/v1/models/nope", { headers: { authorization: `Bearer ${KEY}` } });
    await expectError(res, 404, "model_not_found", "model");
  });

  it("400 with the offending field as param", async () => {
    const cases: [string, string | null][] = [
      [JSON.stringify({ model: MODEL, messages: [{ role: "user", content: 5 }] }), "messages.0.content"],
      [chatBody({ max_tokens: "ten" }), "max_tokens"],
      [chatBody({ max_tokens: 0 }), "max_tokens"],
      [chatBody({ temperature: 3 }), "temperature"],
      [chatBody({ top_p: 0 }), "top_p"],
      [chatBody({ n: 9 }), "n"],
      [chatBody({ stop: ["a", "b", "c", "d", "e"] }), "stop"],
      [chatBody({ stream: "yes" }), "stream"],
      [chatBody({ stream_options: { include_usage: 1 } }), "stream_options.include_usage"],
      [chatBody({ model: 7 }), "model"],
      [JSON.stringify({ model: MODEL }), "messages"],
      [JSON.stringify({ model: MODEL, messages: [] }), "messages"],
      [JSON.stringify({ model: MODEL, messages: [{ role: "robot", content: "x" }] }), "messages.0.role"],
      [JSON.stringify({ model: MODEL, messages: [{ role: "user" }] }), "messages.0.content"],
      [
        JSON.stringify({ model: MODEL, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] }),
        "messages.0.content.0.type",
      ],
      [JSON.stringify([1, 2]), null],
    ];
    for (const [body, param] of cases) {
      const res = await post(chatUrl(), KEY, body);
      const err = await expectError(res, 400, "invalid_request", param);
      if (param === "messages.0.content.0.type") expect(err.error.message).toMatch(/image_url/);
    }
    await expectError(await post(h.edge.url + "/v1/completions", KEY, JSON.stringify({ model: MODEL, prompt: ["a", "b"] })), 400, "invalid_request", "prompt");
    await expectError(await post(h.edge.url + "/v1/completions", KEY, JSON.stringify({ model: MODEL, prompt: 12 })), 400, "invalid_request", "prompt");
  });

  it("400 invalid_json for malformed JSON and an empty body", async () => {
    await expectError(await post(chatUrl(), KEY, "{not json"), 400, "invalid_json");
    await expectError(await post(chatUrl(), KEY, ""), 400, "invalid_json");
  });

  it("unknown fields are ignored", async () => {
    // Valid apart from extra fields; unknown model proves validation passed.
    await expectError(await post(chatUrl(), KEY, chatBody({ model: "nope", logprobs: true, whatever: { a: 1 } })), 404, "model_not_found", "model");
  });

  it("413 for bodies over the limit, with or without Content-Length", async () => {
    const big = chatBody({ pad: "x".repeat(MAX_BODY) });
    await expectError(await post(chatUrl(), KEY, big), 413, "payload_too_large");
    const bytes = new TextEncoder().encode(big);
    const chunked = new ReadableStream<Uint8Array>({
      start(ctl) {
        for (let i = 0; i < bytes.length; i += 8192) ctl.enqueue(bytes.slice(i, i + 8192));
        ctl.close();
      },
    });
    const res = await fetch(chatUrl(), {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: chunked,
      duplex: "half",
    } as RequestInit);
    await expectError(res, 413, "payload_too_large");
  });

  it("404 for unknown routes, 405 for a wrong method", async () => {
    await expectError(await fetch(h.edge.url + "/v2/whatever"), 404, "not_found");
    const res = await fetch(chatUrl(), { headers: { authorization: `Bearer ${KEY}` } });
    await expectError(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("POST");
  });
});

describe("fuzz", () => {
  // Deterministic PRNG so a failure reproduces.
  let seed = 0x5eed;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const randomValue = (depth = 0): unknown => {
    const kinds = depth > 2 ? ["num", "str", "bool", "null"] : ["num", "str", "bool", "null", "arr", "obj"];
    switch (pick(kinds)) {
      case "num":
        return pick([0, -1, 1.5, 1e308, -0, 3, 9999999999]);
      case "str":
        return pick(["", "x", "user", "\u0000", "💥", "a".repeat(50)]);
      case "bool":
        return rnd() < 0.5;
      case "null":
        return null;
      case "arr":
        return Array.from({ length: Math.floor(rnd() * 3) }, () => randomValue(depth + 1));
      default:
        return Object.fromEntries(
          Array.from({ length: Math.floor(rnd() * 3) }, () => [pick(["model", "messages", "role", "content", "prompt", "n", "x"]), randomValue(depth + 1)]),
        );
    }
  };
  const FIELDS = ["model", "messages", "prompt", "max_tokens", "temperature", "top_p", "stop", "n", "seed", "stream", "stream_options", "tools", "chat_template_kwargs", "user"];
  const randomBody = (i: number): string | Uint8Array => {
    switch (i % 4) {
      case 0:
        return JSON.stringify(randomValue());
      case 1: {
        // a valid-looking body with one field of a random wrong type (the model is never served, so nothing queues)
        const body: Record<string, unknown> = { model: "fuzz-model", messages: [{ role: "user", content: "hi" }], prompt: "p" };
        body[pick(FIELDS)] = randomValue();
        return JSON.stringify(body);
      }
      case 2:
        return Uint8Array.from({ length: 1 + Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256));
      default: {
        const s = JSON.stringify({ model: "fuzz-model", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] });
        return s.slice(0, Math.floor(rnd() * s.length)); // truncated JSON
      }
    }
  };

  it("50 random malformed bodies never produce a 5xx", async () => {
    const statuses = new Map<number, number>();
    for (let i = 0; i < 50; i++) {
      const body = randomBody(i);
      const url = h.edge.url + (i % 2 ? "/v1/completions" : "/v1/chat/completions");
      const res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: body as BodyInit });
      const json = (await res.json()) as { error?: { code: string } };
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, `body #${i}: ${String(body).slice(0, 120)}`).toBeLessThan(500);
      expect([400, 404]).toContain(res.status);
      expect(json.error?.code).toBeTruthy();
    }
    expect(statuses.get(400)).toBeGreaterThan(10);
  });
});
