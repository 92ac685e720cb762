// Shared by the parser tests: feeding text in pieces, collecting the result,
// and checking the OpenAI delta shape on the way.
import { expect } from "vitest";
import type { ToolCallDelta } from "../../contract/queue/messages.js";
import { OutputParser, reasoningParserFor, toolParserFor } from "../../pool/run/parsers/index.js";

export interface Call {
  id: string;
  name: string;
  arguments: string;
}

export interface Collected {
  content: string;
  reasoning: string;
  calls: Call[];
  deltas: ToolCallDelta[];
  callCount: number;
}

interface Pushable {
  push(text: string): { content: string; reasoning?: string; calls?: ToolCallDelta[] };
  flush(): { content: string; reasoning?: string; calls?: ToolCallDelta[] };
  readonly callCount?: number;
}

/** Feeds the pieces, then flushes; asserts the delta shape (header first, then argument pieces only). */
export function collect(parser: Pushable, pieces: readonly string[]): Collected {
  const out: Collected = { content: "", reasoning: "", calls: [], deltas: [], callCount: 0 };
  const add = (r: ReturnType<Pushable["push"]>) => {
    out.content += r.content;
    out.reasoning += r.reasoning ?? "";
    for (const d of r.calls ?? []) {
      out.deltas.push(d);
      if (d.name !== undefined) {
        expect(d.index).toBe(out.calls.length); // indexes 0, 1, … in order
        expect(d.id).toBeTypeOf("string");
        expect(d.arguments).toBeUndefined();
        out.calls.push({ id: d.id!, name: d.name, arguments: "" });
      } else {
        expect(Object.keys(d).sort()).toEqual(["arguments", "index"]);
        expect(out.calls[d.index]).toBeDefined();
        out.calls[d.index]!.arguments += d.arguments!;
      }
    }
  };
  for (const p of pieces) add(parser.push(p));
  add(parser.flush());
  out.callCount = parser.callCount ?? 0;
  return out;
}

/** Deterministic PRNG (mulberry32) so random splits are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function chars(text: string): string[] {
  return [...text];
}

/** Random pieces of 0..maxLen characters (empty pieces included: a token can decode to nothing yet). */
export function randomSplit(text: string, next: () => number, maxLen = 8): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; ) {
    const n = Math.floor(next() * (maxLen + 1));
    pieces.push(text.slice(i, i + n));
    i += n;
  }
  return pieces;
}

export const ids = (i: number) => `call_${i}`;

export interface ParserSetup {
  format: "qwen3" | "kimi_k2";
  tools?: readonly string[];
  parallel?: boolean;
  /** undefined: no reasoning parser */
  startsInReasoning?: boolean;
}

/** An OutputParser as parsing.ts builds it. */
export function makeParser(s: ParserSetup): OutputParser {
  const reasoning = s.startsInReasoning === undefined ? undefined : reasoningParserFor(s.format)!({ startsInReasoning: s.startsInReasoning });
  const tools = s.tools ? toolParserFor(s.format)!({ idFor: ids, toolNames: new Set(s.tools), parallel: s.parallel ?? true }) : undefined;
  return new OutputParser({ reasoning, tools });
}

/** Parses whole, then in 1-char pieces and in random pieces: all must agree. Returns the whole parse. */
export function parseAllWays(s: ParserSetup, text: string, seed = 1, rounds = 30): Collected {
  const whole = collect(makeParser(s), [text]);
  const result = (c: Collected) => ({ content: c.content, reasoning: c.reasoning, calls: c.calls, callCount: c.callCount });
  expect(result(collect(makeParser(s), chars(text)))).toEqual(result(whole));
  const next = rng(seed);
  for (let r = 0; r < rounds; r++) expect(result(collect(makeParser(s), randomSplit(text, next, 1 + (r % 12))))).toEqual(result(whole));
  return whole;
}
