// The pool's coalescing writer with an append the test completes by hand: a delta is
// written at once when nothing is in flight, what arrives meanwhile goes out merged in
// the next write, finish() waits for the write in flight, and a lost lease is reported once.
import { expect, it, vi } from "vitest";
import type { ChoiceDelta, ResponseEvent } from "../../contract/queue/messages.js";
import { CoalescingWriter, type AppendResult } from "../../pool/run/writer.js";

function harness(minIntervalMs = 0) {
  const calls: { events: readonly ResponseEvent[]; done: (r: AppendResult) => void }[] = [];
  const lost: string[] = [];
  const w = new CoalescingWriter((events, done) => calls.push({ events, done }), (why) => lost.push(why), minIntervalMs);
  return { w, calls, lost };
}
const delta = (index: number, text: string, ids: number[], finish: ChoiceDelta["finish_reason"] = null): ChoiceDelta => ({ index, text, token_ids: ids, finish_reason: finish });
const OK: AppendResult = { ok: true, value: "ok" };

it("writes the first delta at once and merges what arrives during the write, per choice and in order", () => {
  const { w, calls } = harness();
  w.push(delta(0, "a", [1]));
  expect(calls).toHaveLength(1);
  w.push(delta(1, "x", [7]));
  w.push(delta(0, "b", [2]));
  w.push(delta(0, "c", [3]));
  expect(calls).toHaveLength(1); // still in flight
  calls[0]!.done(OK);
  expect(calls).toHaveLength(2);
  expect(calls[1]!.events).toEqual([
    {
      type: "chunk",
      choices: [
        { index: 0, text: "bc", token_ids: [2, 3], finish_reason: null },
        { index: 1, text: "x", token_ids: [7], finish_reason: null },
      ],
    },
  ]);
  calls[1]!.done(OK);
  expect(w.entries).toBe(2);
  w.push(delta(0, "", [], null)); // nothing to say: no write
  expect(calls).toHaveLength(2);
});

it("finish waits for the write in flight, then sends what is pending with the terminal event", async () => {
  const { w, calls } = harness();
  w.push(delta(0, "a", [1]));
  w.push(delta(0, "b", [2], "stop"));
  const done: ResponseEvent = { type: "done", usage: { prompt_tokens: 1, completion_tokens: 2, cached_tokens: 0 } };
  const finished = w.finish(done);
  await Promise.resolve();
  expect(calls).toHaveLength(1);
  calls[0]!.done(OK); // the pending "b" goes out now, before finish's own write
  expect(calls).toHaveLength(2);
  calls[1]!.done(OK);
  await vi.waitFor(() => expect(calls).toHaveLength(3));
  expect(calls[2]!.events).toEqual([done]);
  calls[2]!.done(OK);
  expect(await finished).toBe(true);
  expect(w.entries).toBe(3);
});

it("a fenced write reports the loss once and writes nothing more", async () => {
  const { w, calls, lost } = harness();
  w.push(delta(0, "a", [1]));
  w.push(delta(0, "b", [2]));
  calls[0]!.done({ ok: true, value: "fenced" });
  expect(lost).toEqual(["fenced"]);
  expect(w.state).toBe("fenced");
  w.push(delta(0, "c", [3]));
  expect(calls).toHaveLength(1);
  expect(await w.finish({ type: "done" } as ResponseEvent)).toBe(false);
  expect(calls).toHaveLength(1);
});

it("a failed write (Redis) marks the writer failed with the error", () => {
  const { w, calls, lost } = harness();
  w.push(delta(0, "a", [1]));
  calls[0]!.done({ ok: false, error: "connection lost" });
  expect(lost).toEqual(["failed"]);
  expect(w.failure).toBe("connection lost");
});

it("minIntervalMs spaces a request's writes out", () => {
  vi.useFakeTimers();
  try {
    const { w, calls } = harness(50);
    w.push(delta(0, "a", [1]));
    calls[0]!.done(OK);
    w.push(delta(0, "b", [2]));
    expect(calls).toHaveLength(1);
    vi.advanceTimersByTime(49);
    expect(calls).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(calls).toHaveLength(2);
  } finally {
    vi.useRealTimers();
  }
});
