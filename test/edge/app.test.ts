// The edge's HTTP behaviour through app.request() with in-memory fakes of its
// ports (test/edge/fakes.ts): no Redis, no sockets, milliseconds per test. The
// same behaviours against real Redis are in errors.test.ts and the e2e suites.
import { beforeAll, describe, expect, it } from "vitest";
import { fakeEdge, type FakeEdge } from "./fakes.js";

const KEY = "sk-fake-good";
const MODEL = "fake-model";
let e: FakeEdge;

beforeAll(async () => {
  e = fakeEdge({ maxBodyBytes: 1024 });
  await e.addKey(KEY, "t1");
  await e.addKey("sk-fake-revoked", "t1", { revoked: true });
  await e.addKey("sk-fake-other-model", "t1", { models: ["other-model"] });
  e.addPool("pool-1", [MODEL]);
});

const chat = (body: unknown, key: string | null = KEY, headers: Record<string, string> = {}) =>
  e.app.request("/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
const messages = [{ role: "user", content: "Hello" }];

async function expectError(res: Response, status: number, code: string, param: string | null = null) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string } };
  expect(body.error).toMatchObject({ code, param });
  expect(typeof body.error.message).toBe("string");
  expect(typeof body.error.type).toBe("string");
  return body.error;
}

describe("edge app (in-memory ports)", () => {
  it("401 invalid_api_key for a missing, unknown or revoked key, with a request id", async () => {
    const res = await chat({ model: MODEL, messages }, null);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    await expectError(res, 401, "invalid_api_key");
    await expectError(await chat({ model: MODEL, messages }, "sk-nope"), 401, "invalid_api_key");
    await expectError(await chat({ model: MODEL, messages }, "sk-fake-revoked"), 401, "invalid_api_key");
  });

  it("lists the models live pools serve", async () => {
    const res = await e.app.request("/v1/models", { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { id: string }[] };
    expect(body.data.map((m) => m.id)).toEqual([MODEL]);
  });

  it("400 with param naming the field for a wrong type; 400 invalid_json for malformed JSON", async () => {
    await expectError(await chat({ model: MODEL, messages, max_tokens: "many" }), 400, "invalid_request", "max_tokens");
    await expectError(await chat({ model: MODEL, messages: [{ role: "user", content: 5 }] }), 400, "invalid_request", "messages.0.content");
    await expectError(await chat("{not json"), 400, "invalid_json");
  });

  it("404 model_not_found for an unknown model; 403 permission_denied for a key limited to other models", async () => {
    await expectError(await chat({ model: "nope", messages }), 404, "model_not_found", "model");
    await expectError(await chat({ model: MODEL, messages }, "sk-fake-other-model"), 403, "permission_denied", "model");
  });

  it("413 for a body over the limit", async () => {
    await expectError(await chat({ model: MODEL, messages: [{ role: "user", content: "x".repeat(4096) }] }), 413, "payload_too_large");
  });

  it("405 with Allow on a wrong method, 404 on an unknown path", async () => {
    const res = await e.app.request("/v1/chat/completions", { method: "GET" });
    expect(res.headers.get("allow")).toBe("POST");
    await expectError(res, 405, "method_not_allowed");
    await expectError(await e.app.request("/v1/nothing-here", { headers: { authorization: `Bearer ${KEY}` } }), 404, "not_found");
  });
});
