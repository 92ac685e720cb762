// The body-check threads' task (edge/node/body-check-thread.ts), run in line: for each
// API it refuses what its route would refuse (bad JSON, a bad field, a prompt over the
// context, with the route's error and param) and leaves every other body to the route.
import { beforeAll, describe, expect, it } from "vitest";
import checkBody, { type ModelLimits } from "../../edge/node/body-check-thread.js";
import type { BodyKind } from "../../edge/api/body-requests.js";
import { loadRealModelTokenizer } from "../helpers/real-tokenizer.js";
import { bigPrompt } from "../../bench/lib/big-prompt.js";

const MB = 1 << 20;
let models: ModelLimits[];
beforeAll(() => {
  const tok = loadRealModelTokenizer();
  models = [{ id: "m", contextLength: 32768, maxTokenBytes: tok.maxTokenBytes, boundsData: tok.boundsData }];
});

const check = (kind: BodyKind, body: unknown) => checkBody({ kind, bytes: new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body)), models });
const big = () => bigPrompt("words", MB, 1);

describe("a prompt over the context is refused as its route would", () => {
  it.each([
    ["chat", { model: "m", messages: [{ role: "user", content: "" }] }, "messages"],
    ["completion", { model: "m", prompt: "" }, "prompt"],
    ["messages", { model: "m", max_tokens: 16, messages: [{ role: "user", content: "" }] }, "messages"],
    ["count_tokens", { model: "m", messages: [{ role: "user", content: "" }] }, "messages"],
    ["responses", { model: "m", input: "" }, "input"],
  ] as const)("%s", (kind, shape, param) => {
    const body = JSON.parse(JSON.stringify(shape));
    if ("prompt" in body) body.prompt = big();
    else if ("input" in body) body.input = big();
    else body.messages[0].content = big();
    const v = check(kind, body);
    expect(v.error?.code).toBe("context_length_exceeded");
    expect(v.error?.param).toBe(param);
    expect(v.error?.message).toMatch(/at least \d+ tokens/);
  });
});

it("refuses bad JSON and bad fields with the route's errors", () => {
  expect(check("chat", `{"model": "m", "messages": [`).error?.code).toBe("invalid_json");
  const bad = check("chat", { model: "m", messages: [{ role: "user", content: "hi" }], temperature: "hot" });
  expect(bad.error?.code).toBe("invalid_request");
  expect(bad.error?.param).toBe("temperature");
  const out = check("chat", { model: "m", max_tokens: 40_000, messages: [{ role: "user", content: "hi" }] });
  expect(out.error).toMatchObject({ code: "context_length_exceeded", param: "max_tokens" });
});

it("leaves to the route what fits, an unknown model, and a continuation it cannot see", () => {
  expect(check("chat", { model: "m", messages: [{ role: "user", content: bigPrompt("words", 20_000, 2) }] })).toEqual({});
  expect(check("chat", { model: "other", messages: [{ role: "user", content: big() }] })).toEqual({});
  // previous_response_id with no new input: valid only with the stored conversation
  expect(check("responses", { model: "m", input: [], previous_response_id: "resp_abc" })).toEqual({});
});
