// The edge's lower bound of a prompt's tokens (edge/api/prompt-bound.ts) with the
// bounds a pool advertises for the real Qwen3 tokenizer: never above the true count of
// the rendered chat prompt, and far over the context for 1 MB prompts, cheaply.
import { readFileSync } from "node:fs";
import { beforeAll, expect, it } from "vitest";
import { PromptBoundsDataSchema, PromptLengthBounds } from "../../contract/prompt-bounds.js";
import { promptTokensFloor, utf8Length } from "../../edge/api/prompt-bound.js";
import type { ModelTokenizer } from "../../pool/tokenizer/model-tokenizer.js";
import { loadRealModelTokenizer } from "../helpers/real-tokenizer.js";
import { bigPrompt } from "../../bench/lib/big-prompt.js";

let tok: ModelTokenizer;
let bounds: PromptLengthBounds;
const MB = 1 << 20;

beforeAll(() => {
  tok = loadRealModelTokenizer();
  // exactly what crosses the registry: JSON, parsed with the schema the edge uses
  bounds = new PromptLengthBounds(PromptBoundsDataSchema.parse(JSON.parse(JSON.stringify(tok.boundsData))));
});

const renderedTokens = (messages: { role: string; content: string }[]) => {
  const r = tok.renderChat({ messages, kwargs: { enable_thinking: false } });
  if (!r.ok) throw new Error(r.error);
  return tok.encode(r.value).length;
};

it("never exceeds the rendered prompt's true token count", () => {
  const cases: { role: string; content: string }[][] = [
    [{ role: "user", content: readFileSync("README.md", "utf8") }],
    [{ role: "system", content: "Be brief." }, { role: "user", content: bigPrompt("words", 60_000, 3) }],
    [{ role: "user", content: "héllo e\u0301 wörld 東京 🚀 ".repeat(500) }, { role: "assistant", content: "ok" }, { role: "user", content: "x".repeat(5_000) + " end" }],
    [{ role: "user", content: "  padded\n\n  " }, { role: "user", content: "<|im_start|>literal markers<|im_end|> and <tool_call>{}</tool_call>" }],
    [{ role: "user", content: "a" }, { role: "user", content: "1234567890".repeat(300) }, { role: "user", content: "!!!???...".repeat(200) }],
  ];
  for (const messages of cases) {
    const floor = promptTokensFloor({ messages }, { bounds }, Number.MAX_SAFE_INTEGER);
    const actual = renderedTokens(messages);
    expect(floor).toBeLessThanOrEqual(actual);
    // and it is a useful bound, not zero, on the large ones
    if (actual > 5_000) expect(floor).toBeGreaterThan(actual / 3);
  }
  const prompt = bigPrompt("words", 50_000, 8);
  expect(promptTokensFloor({ prompt }, { bounds }, Number.MAX_SAFE_INTEGER)).toBeLessThanOrEqual(tok.encode(prompt).length);
});

it("puts 1 MB prompts over a 32k context, prose and one repeated character alike", () => {
  for (const kind of ["words", "x"] as const) {
    const messages = [{ role: "user", content: bigPrompt(kind, MB, 1) }];
    expect(promptTokensFloor({ messages }, { bounds }, 32_768)).toBeGreaterThan(32_768);
    // the bytes-only bound (a pool that advertises no bounds) cannot tell
    expect(promptTokensFloor({ messages }, { maxTokenBytes: tok.maxTokenBytes }, 32_768)).toBeLessThan(32_768);
  }
});

it("adds up messages that are each small enough", () => {
  const messages = Array.from({ length: 8 }, (_, i) => ({ role: "user", content: bigPrompt("words", 40_000, 20 + i) }));
  const floor = promptTokensFloor({ messages }, { bounds }, Number.MAX_SAFE_INTEGER);
  const one = promptTokensFloor({ messages: messages.slice(0, 1) }, { bounds }, Number.MAX_SAFE_INTEGER);
  expect(floor).toBeGreaterThan(6 * one);
  expect(floor).toBeLessThanOrEqual(renderedTokens(messages));
});

it("the upper bound's byte count is the encoded UTF-8 length, lone surrogates included", () => {
  for (const s of ["", "plain", "héllo wörld", "東京", "🚀🎉👩‍🚀", "\ud83d\ud83d", "a\ud83d", "\udc00b", "\ud83d\ude80\ud83d", "x".repeat(1000) + "\ud800"]) {
    expect(utf8Length(s), JSON.stringify(s)).toBe(new TextEncoder().encode(s).length);
  }
});
