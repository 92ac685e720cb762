import { describe, expect, it } from "vitest";
import { ReasoningParser, promptOpensReasoning, reasoningParserFor } from "../../pool/run/parsers/index.js";
import { chars, collect, rng, randomSplit } from "./helpers.js";

const parse = (text: string, startsInReasoning = false, pieces?: string[]) =>
  collect(new ReasoningParser({ startsInReasoning }), pieces ?? [text]);

function allWays(text: string, startsInReasoning = false) {
  const whole = parse(text, startsInReasoning);
  expect(parse(text, startsInReasoning, chars(text))).toEqual(whole);
  const next = rng(7);
  for (let r = 0; r < 30; r++) expect(parse(text, startsInReasoning, randomSplit(text, next, 1 + (r % 9)))).toEqual(whole);
  return whole;
}

describe("reasoningParserFor", () => {
  it("gives a parser for the thinking families only", () => {
    expect(reasoningParserFor("qwen3")).toBeTypeOf("function");
    expect(reasoningParserFor("kimi_k2")).toBeTypeOf("function");
    expect(reasoningParserFor("llama")).toBeUndefined();
  });
});

describe("promptOpensReasoning", () => {
  it("is true when the prompt ends inside an opened think block", () => {
    expect(promptOpensReasoning("<|im_start|>assistant\n<think>\n")).toBe(true);
    expect(promptOpensReasoning("<|im_start|>assistant\n<think>")).toBe(true);
  });
  it("is false when the block is closed or absent", () => {
    expect(promptOpensReasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n")).toBe(false);
    expect(promptOpensReasoning("<|im_start|>assistant\n")).toBe(false);
    expect(promptOpensReasoning("user said <think> here<|im_end|>\n<|im_start|>assistant\n")).toBe(false);
  });
});

describe("ReasoningParser", () => {
  it("splits a think block from the answer, dropping tags and layout whitespace", () => {
    const r = allWays("<think>\nLet me think.\n\nYes.\n</think>\n\nThe answer is 4.");
    expect(r.reasoning).toBe("Let me think.\n\nYes.");
    expect(r.content).toBe("The answer is 4.");
  });

  it("starts in reasoning when the prompt opened the block", () => {
    const r = allWays("\nHmm, 2+2.\n</think>\n\n4", true);
    expect(r.reasoning).toBe("Hmm, 2+2.");
    expect(r.content).toBe("4");
  });

  it("treats an unclosed block as all reasoning", () => {
    expect(allWays("<think>\nstill thinking </thi")).toEqual({ ...parse(""), reasoning: "still thinking </thi" });
    const r = allWays("thinking forever\n", true);
    expect(r).toMatchObject({ reasoning: "thinking forever", content: "" });
  });

  it("treats output without an opening tag as content, leading whitespace included", () => {
    const r = allWays("\n Hello <think>not reasoning</think>");
    expect(r).toMatchObject({ content: "\n Hello <think>not reasoning</think>", reasoning: "" });
  });

  it("releases a partial opening tag that turns out not to be one", () => {
    const p = new ReasoningParser({ startsInReasoning: false });
    expect(p.push("<thi")).toEqual({ content: "", reasoning: "" });
    expect(p.push("s is content")).toEqual({ content: "<this is content", reasoning: "" });
    const q = new ReasoningParser({ startsInReasoning: false });
    q.push("<thin");
    expect(q.flush()).toEqual({ content: "<thin", reasoning: "" });
  });

  it("streams reasoning while holding only what may be the closing tag", () => {
    const p = new ReasoningParser({ startsInReasoning: true });
    expect(p.push("\nabc")).toEqual({ content: "", reasoning: "abc" });
    expect(p.push(" def </th")).toEqual({ content: "", reasoning: " def" });
    expect(p.push("ink>\n\nok")).toEqual({ content: "ok", reasoning: "" });
  });

  it("reports inReasoning through the block and its closing separator", () => {
    const p = new ReasoningParser({ startsInReasoning: false });
    p.push("<think>");
    expect(p.inReasoning).toBe(true);
    p.push("x</think>");
    expect(p.inReasoning).toBe(true);
    p.push("\n\n");
    expect(p.inReasoning).toBe(true);
    p.push("answer");
    expect(p.inReasoning).toBe(false);
  });

  it("gives an empty reasoning for an empty block (thinking disabled by the model)", () => {
    const r = allWays("<think>\n\n</think>\n\nHi");
    expect(r).toMatchObject({ reasoning: "", content: "Hi" });
  });
});
