// decodeEntry: the edge's reading of one response-stream entry. Chunks are checked for
// their shape (token ids only as an array: the edge uses their count); anything else
// the pool could not have written becomes a bad_upstream_event error, never a crash.
import { describe, expect, it } from "vitest";
import { decodeEntry } from "../../edge/streams/reader.js";

const entry = (e: unknown) => decodeEntry(["5-1", ["e", JSON.stringify(e)]]);
const chunk = (delta: Record<string, unknown>) => ({ type: "chunk", choices: [{ index: 0, text: "hi", token_ids: [7, 8], finish_reason: null, ...delta }] });

describe("decodeEntry", () => {
  it("keeps a chunk as written, with its id", () => {
    const e = chunk({ reasoning: "r", tool_calls: [{ index: 0, id: "call_1", name: "f" }] });
    expect(decodeEntry(["5-1", ["e", JSON.stringify(e)]])).toEqual({ id: "5-1", event: e });
  });

  it("refuses what the pool cannot have written", () => {
    for (const bad of [chunk({ token_ids: 3 }), chunk({ text: 1 }), chunk({ finish_reason: "eos" }), { type: "chunk" }, { type: "nope" }, "x"]) {
      expect(entry(bad).event).toMatchObject({ type: "error", error: { code: "bad_upstream_event", status: 502 } });
    }
    expect(decodeEntry(["5-2", ["e", "{not json"]]).event).toMatchObject({ error: { code: "bad_upstream_event" } });
    expect(decodeEntry(["5-3", []]).event).toMatchObject({ error: { code: "bad_upstream_event" } });
  });
});
