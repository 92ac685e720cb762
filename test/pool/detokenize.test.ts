// Unit tests: incremental detokenization of real Qwen3 ids (both detokenizers) and stop strings across chunks.
import { describe, expect, it } from "vitest";
import { loadSimTokenizer } from "../../sim/tokenizer.js";
import { IncrementalDecoder, type TokenTextStream } from "../../pool/run/incremental-decoder.js";
import { ByteStreamDecoder } from "../../pool/run/byte-stream-decoder.js";
import { loadRealModelTokenizer } from "../helpers/real-tokenizer.js";
import { StopMatcher } from "../../pool/run/stop-strings.js";

const tok = loadSimTokenizer();
const detok = { decode: (ids: readonly number[]) => tok.tokenizer.decode(ids as number[], { skip_special_tokens: true }) };
const model = loadRealModelTokenizer();
const specialIds = new Set([...tok.tokenizer.get_added_tokens_decoder()].filter(([, t]) => t.special).map(([id]) => id));

// Both incremental detokenizers: the window scheme (any decoder) and the byte stream
// (byte-level BPE), which the real Qwen3 tokenizer selects.
const streams: [string, () => TokenTextStream][] = [
  ["IncrementalDecoder", () => new IncrementalDecoder(detok)],
  ["ByteStreamDecoder", () => new ByteStreamDecoder(model.tokenBytes, specialIds)],
];

describe.each(streams)("%s", (_name, newStream) => {
  const text = "Emoji 🚀🎉👩‍🚀 then 东京的春天樱花盛开 and Größere Äpfel,日本語の文章。";
  const ids = tok.encode(text);

  it("the sample really splits characters across tokens", () => {
    // Guard: without a split character this test would prove nothing.
    const partial = ids.some((_, i) => tok.tokenizer.decode(ids.slice(0, i + 1)).endsWith("\uFFFD"));
    expect(partial).toBe(true);
  });

  it("never emits U+FFFD one token at a time, and the pieces concatenate to decode(all)", () => {
    const d = newStream();
    const pieces = ids.map((id) => d.push([id]));
    pieces.push(d.flush());
    for (const p of pieces) expect(p).not.toContain("\uFFFD");
    expect(pieces.join("")).toBe(detok.decode(ids));
    expect(pieces.join("")).toBe(text);
    expect(d.ids).toEqual(ids);
  });

  it("gives the same text for any batching of the ids", () => {
    for (const size of [2, 3, 5, 7]) {
      const d = newStream();
      let out = "";
      for (let i = 0; i < ids.length; i += size) {
        const p = d.push(ids.slice(i, i + size));
        expect(p).not.toContain("\uFFFD");
        out += p;
      }
      out += d.flush();
      expect(out).toBe(text);
    }
  });

  it("skips special tokens and flushes an incomplete trailing character at the end", () => {
    // Cut the sample right after a token that leaves a character incomplete.
    const cut = ids.findIndex((_, i) => detok.decode(ids.slice(0, i + 1)).endsWith("\uFFFD"));
    expect(cut).toBeGreaterThanOrEqual(0);
    const d = newStream();
    expect(d.push([tok.imEndId])).toBe("");
    const shown = d.push(ids.slice(0, cut + 1));
    expect(shown).not.toContain("\uFFFD");
    expect(shown + d.flush()).toBe(detok.decode(ids.slice(0, cut + 1)));
  });
});

describe("ByteStreamDecoder is the tokenizer's decode", () => {
  it("is what the Qwen3 tokenizer hands out", () => {
    expect(model.textStream(true)).toBeInstanceOf(ByteStreamDecoder);
  });

  it("matches decode() on random ids (special, added and partial characters included), special tokens kept or skipped", () => {
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const specials = [...specialIds];
    const markup = ["<think>", "</think>", "<tool_call>"].map((t) => tok.tokenizer.token_to_id(t)!);
    for (let round = 0; round < 200; round++) {
      const ids = Array.from({ length: 1 + rand(40) }, () => {
        const r = rand(10);
        return r === 0 ? specials[rand(specials.length)]! : r === 1 ? markup[rand(markup.length)]! : rand(151_000);
      });
      for (const skip of [true, false]) {
        const d = model.textStream(skip);
        let out = "";
        for (const id of ids) out += d.push([id]);
        out += d.flush();
        expect(out).toBe(model.decode(ids, skip));
      }
    }
  });
});

describe("StopMatcher", () => {
  it("matches a stop split across chunks, trims it and drops what follows", () => {
    const m = new StopMatcher(["STOP"]);
    expect(m.push("hello S")).toEqual({ text: "hello ", matched: null });
    expect(m.push("T")).toEqual({ text: "", matched: null });
    expect(m.push("OP and more")).toEqual({ text: "", matched: "STOP" });
    expect(m.finished).toBe(true);
    expect(m.push("x")).toEqual({ text: "", matched: null });
  });

  it("releases held-back text when it turns out not to be a stop", () => {
    const m = new StopMatcher(["STOP"]);
    expect(m.push("ab ST").text).toBe("ab ");
    expect(m.push("ART").text).toBe("START");
  });

  it("releases held-back text at the end of the sequence", () => {
    const m = new StopMatcher(["</end>"]);
    expect(m.push("done </e").text).toBe("done ");
    expect(m.flush()).toBe("</e");
  });

  it("trims at the worker's matched stop if it sits in the held text", () => {
    const m = new StopMatcher(["\n\n"]);
    expect(m.push("line\n").text).toBe("line");
    expect(m.flush("\n")).toBe("");
  });

  it("the earliest of several stops wins, including multi-byte stops", () => {
    const m = new StopMatcher(["樱花", "xyz"]);
    let out = "";
    for (const ch of [..."东京的春天樱", "花盛开 xyz"]) {
      const r = m.push(ch);
      out += r.text;
      if (r.matched) expect(r.matched).toBe("樱花");
    }
    expect(out).toBe("东京的春天");
  });
});
