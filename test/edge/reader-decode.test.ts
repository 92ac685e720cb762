// decodeEntry: the edge's reading of one response-stream entry. Chunks are checked for
// their shape (token ids only as an array: the edge uses their count); anything else
// the pool could not have written becomes a bad_upstream_event error, never a crash.
import { describe, expect, it } from "vitest";
import { decodeEntry } from "../../edge/streams/reader.js";
import { RelayedEventSchema } from "../../contract/queue/messages.js";

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

describe("decodeEntry's hand check of plain chunks", () => {
  // What the schema alone makes of an entry: the reference the hand check must agree with.
  const bySchema = (e: unknown) => {
    const r = RelayedEventSchema.safeParse(JSON.parse(JSON.stringify(e)));
    return r.success ? r.data : "refused";
  };
  const byEdge = (e: unknown) => {
    const ev = entry(e).event;
    return ev.type === "error" && ev.error.code === "bad_upstream_event" ? "refused" : ev;
  };

  it("reads every entry exactly as the schema does, plain or not, valid or not", () => {
    const cases: unknown[] = [
      chunk({}),
      chunk({ offset: 12 }),
      chunk({ finish_reason: "length", text: "" }),
      chunk({ finish_reason: "tool_calls", token_ids: [] }),
      { type: "chunk", choices: [] },
      { type: "chunk", choices: [chunk({}).choices[0], { ...chunk({}).choices[0], index: 1, finish_reason: "stop", stop_sequence: "###" }] },
      chunk({ logprobs: [{ token: "hi", logprob: -0.1, bytes: [104, 105], top: [] }] }),
      chunk({ extra: 1 }),
      chunk({ offset: -1 }),
      chunk({ offset: 1.5 }),
      chunk({ offset: "3" }),
      chunk({ index: -1 }),
      chunk({ index: 2 ** 60 }),
      chunk({ index: "0" }),
      chunk({ finish_reason: "eos" }),
      chunk({ token_ids: {} }),
      chunk({ text: null }),
      { ...chunk({}), extra: true },
      { type: "chunk", choices: [null] },
      { type: "chunk", choices: [[1]] },
      { type: "chunk", choices: {} },
      { type: "done", usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } },
      { type: "error", error: { status: 503, type: "server_error", code: "worker_unavailable", message: "m" } },
    ];
    for (const e of cases) expect(byEdge(e), JSON.stringify(e)).toEqual(bySchema(e));
    // and the plain ones really are read (not all refused alike)
    expect(byEdge(chunk({ offset: 12 }))).toEqual(chunk({ offset: 12 }));
  });
});
