// SamplingParams constraints honoured by the simulated worker: json_schema,
// regex, structural_tag outputs are valid and end with EOS (or are truncated
// at max_new_tokens); constraints that do not compile and ebnf_grammar are
// refused with INVALID_ARGUMENT before any frame.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpc } from "../../pool/workers/grpc-bridge.js";
import type { StructuralTag } from "../../contract/structural-tag.js";
import { schemaValue } from "../../sim/agent/schema-value.js";
import { rngFrom } from "../../sim/agent/rng.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { assertValid, BOOKING_SCHEMA, qwen3Calls, qwen3Prompt, TOOLS } from "./agent-prompts.js";
import { byChoice, collect, schedulerClient } from "./helpers.js";

let w: SimWorker;
let client: ReturnType<typeof schedulerClient>;

beforeAll(async () => {
  w = await startSimWorker({ decodeMsPerToken: 0.2, decodeMsPerRunning: 0 });
  client = schedulerClient(w.address);
});

afterAll(async () => {
  client.close();
  await w.stop();
});

type Constraint = { case: "regex" | "jsonSchema" | "ebnfGrammar" | "structuralTag"; value: string };
let rid = 0;
async function gen(constraint: Constraint, opts: { seed?: number; maxNewTokens?: number; prompt?: string; stream?: boolean } = {}) {
  const prompt = w.tokenizer.encode(opts.prompt ?? qwen3Prompt([{ role: "user", content: "Give me data" }], [], true));
  const { frames, error } = await collect(
    client.generate({
      requestId: `c-${++rid}`,
      tokenized: { inputIds: prompt },
      samplingParams: { maxNewTokens: opts.maxNewTokens ?? 500, customParams: { seed: opts.seed ?? 0 }, constraint },
      stream: opts.stream ?? false,
    }),
  );
  if (error) return { error, frames };
  const c = byChoice(frames).get(0)!;
  const ids = opts.stream ? c.streamed : c.complete!.outputIds;
  return { ids, text: w.tokenizer.decode(ids), complete: c.complete!, frames };
}

const eos = () => ({ case: "matchedTokenId", value: w.tokenizer.imEndId });

describe("schema values", () => {
  it("the generator satisfies a demanding schema for many seeds (ajv)", () => {
    for (let s = 0; s < 200; s++) assertValid(BOOKING_SCHEMA, schemaValue(BOOKING_SCHEMA, rngFrom(s)));
  });
});

describe("json_schema", () => {
  it("outputs JSON valid against the schema, then EOS (no thinking even with a thinking prompt)", async () => {
    for (let seed = 0; seed < 4; seed++) {
      const r = await gen({ case: "jsonSchema", value: JSON.stringify(BOOKING_SCHEMA) }, { seed });
      assertValid(BOOKING_SCHEMA, JSON.parse(r.text!));
      expect(r.complete!.finishReason).toBe("stop");
      expect(r.complete!.matchedStop).toEqual(eos());
    }
  });

  it('{"type":"object"} gives some object; stream equals non-stream', async () => {
    const s = await gen({ case: "jsonSchema", value: '{"type":"object"}' }, { stream: true });
    const n = await gen({ case: "jsonSchema", value: '{"type":"object"}' });
    const v = JSON.parse(n.text!);
    expect(typeof v).toBe("object");
    expect(Array.isArray(v)).toBe(false);
    expect(s.ids).toEqual(n.ids);
  });

  it("truncated at max_new_tokens with finish_reason length", async () => {
    const r = await gen({ case: "jsonSchema", value: JSON.stringify(BOOKING_SCHEMA) }, { maxNewTokens: 5 });
    expect(r.ids).toHaveLength(5);
    expect(r.complete!.finishReason).toBe("length");
  });
});

describe("regex", () => {
  it("outputs a full match of the regex, then EOS", async () => {
    for (const re of ["[A-Z]{3}-\\d{2,4}", "(yes|no|maybe)", "\\w+@example\\.(com|org)", "[a-c]*x+"]) {
      for (let seed = 0; seed < 3; seed++) {
        const r = await gen({ case: "regex", value: re }, { seed });
        expect(r.text).toMatch(new RegExp(`^(?:${re})$`));
        expect(r.complete!.finishReason).toBe("stop");
      }
    }
  });
});

const callTag = (name: string, params: unknown) => ({
  type: "tag" as const,
  begin: `<tool_call>\n{"name": "${name}", "arguments": `,
  content: { type: "json_schema" as const, json_schema: params as Record<string, unknown> },
  end: "}\n</tool_call>",
});
const st = (format: StructuralTag["format"]): Constraint => ({ case: "structuralTag", value: JSON.stringify({ type: "structural_tag", format }) });

describe("structural_tag", () => {
  it("forced Qwen3 call (triggered_tags, at_least_one, stop_after_first): exactly one valid call, then EOS", async () => {
    const tag = st({
      type: "triggered_tags",
      triggers: ["<tool_call>"],
      tags: [callTag("book_hotel", BOOKING_SCHEMA)],
      at_least_one: true,
      stop_after_first: true,
    });
    const prompt = qwen3Prompt([{ role: "user", content: "Book" }], TOOLS, false);
    for (let seed = 0; seed < 3; seed++) {
      const r = await gen(tag, { seed, prompt });
      expect(r.text!.startsWith("<tool_call>\n")).toBe(true);
      const calls = qwen3Calls(r.text!);
      expect(calls).toHaveLength(1);
      expect(calls[0].name).toBe("book_hotel");
      assertValid(BOOKING_SCHEMA, calls[0].args);
      expect(r.text!.endsWith("</tool_call>")).toBe(true);
      expect(r.complete!.matchedStop).toEqual(eos());
    }
  });

  it("thinking sequence: <think> any_text </think> then the forced call", async () => {
    const tag = st({
      type: "sequence",
      elements: [
        { type: "tag", begin: "<think>", content: { type: "any_text" }, end: "</think>\n\n" },
        { type: "triggered_tags", triggers: ["<tool_call>"], tags: [callTag("get_weather", TOOLS[0].function.parameters)], at_least_one: true, stop_after_first: true },
      ],
    });
    const r = await gen(tag, { prompt: qwen3Prompt([{ role: "user", content: "Weather in Rome?" }], TOOLS, true) });
    const m = /^<think>([\s\S]+)<\/think>\n\n(<tool_call>[\s\S]*)$/.exec(r.text!);
    expect(m, r.text).not.toBeNull();
    expect(m![1].trim().length).toBeGreaterThan(10);
    const calls = qwen3Calls(m![2]);
    expect(calls).toHaveLength(1);
    assertValid(TOOLS[0].function.parameters, calls[0].args);
  });

  it("const_string, or, tags_with_separator", async () => {
    const a = await gen(st({ type: "sequence", elements: [{ type: "const_string", value: "Answer: " }, { type: "or", elements: [{ type: "const_string", value: "A" }, { type: "const_string", value: "B" }] }] }));
    expect(["Answer: A", "Answer: B"]).toContain(a.text);
    const b = await gen(
      st({
        type: "tags_with_separator",
        tags: [{ type: "tag", begin: "<x>", content: { type: "json_schema", json_schema: { type: "integer", minimum: 3, maximum: 5 } }, end: "</x>" }],
        separator: ",",
        at_least_one: true,
      }),
    );
    expect(b.text).toMatch(/^<x>[345]<\/x>(,<x>[345]<\/x>)*$/);
  });

  it("triggered_tags without at_least_one and no call decision: free text without the trigger", async () => {
    const r = await gen(st({ type: "triggered_tags", triggers: ["<tool_call>"], tags: [callTag("get_weather", {})] }));
    expect(r.text).not.toContain("<tool_call>");
    expect(r.text!.length).toBeGreaterThan(0);
    expect(r.complete!.finishReason).toBe("stop");
  });
});

describe("refused constraints", () => {
  const cases: [string, Constraint, RegExp][] = [
    ["json_schema that is not JSON", { case: "jsonSchema", value: "{type: object" }, /json_schema is not valid JSON/],
    ["json_schema with a dangling $ref", { case: "jsonSchema", value: '{"$ref": "#/$defs/nope"}' }, /unresolvable \$ref/],
    ["structural_tag that is not JSON", { case: "structuralTag", value: "nope" }, /structural_tag is not valid JSON/],
    ["structural_tag with an unknown type", st({ type: "magic" } as never), /invalid structural_tag/],
    ["triggered_tags whose tag matches no trigger", st({ type: "triggered_tags", triggers: ["<a>"], tags: [callTag("f", {})] }), /matches no trigger/],
    ["invalid regex", { case: "regex", value: "([a-z" }, /invalid regex/],
    ["ebnf_grammar", { case: "ebnfGrammar", value: 'root ::= "a"' }, /ebnf_grammar .*not supported/],
  ];
  for (const [name, c, msg] of cases) {
    it(`${name} => INVALID_ARGUMENT, no frames`, async () => {
      const r = await gen(c, { stream: true });
      expect(r.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(r.error?.details).toMatch(msg);
      expect(r.frames).toHaveLength(0);
    });
  }
});
