// Generate semantics of the simulated worker against the real servicer's rules
// (tokenspeed-wire.md §3.3): delta chunks, running counters, completes, n>1,
// stop tokens/strings, length, errors, and replay determinism.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpc } from "../../pool/workers/grpc-bridge.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { expectedGeneration, type GenParams } from "../../sim/text-model.js";
import { byChoice, collect, schedulerClient } from "./helpers.js";

let w: SimWorker;
let client: ReturnType<typeof schedulerClient>;
let prompt: number[];

const params = (p: Partial<GenParams> & { maxNewTokens: number }): GenParams => ({ seed: 0, ...p });

beforeAll(async () => {
  w = await startSimWorker({ decodeMsPerToken: 1, decodeMsPerRunning: 0.05 });
  client = schedulerClient(w.address);
  prompt = w.tokenizer.encode("<|im_start|>user\nTell me a story about a fox in Zürich 🦊.<|im_end|>\n<|im_start|>assistant\n");
});

afterAll(async () => {
  client.close();
  await w.stop();
});

describe("text model", () => {
  it("uses real token ids, including tokens that split a multi-byte character", () => {
    const pool = w.textModel.pool;
    expect(pool.length).toBeGreaterThan(100);
    // A token that decodes alone to a replacement char carries part of a character.
    expect(pool.some((id) => w.tokenizer.decode([id]).includes("\uFFFD"))).toBe(true);
    const out = expectedGeneration(w.textModel, prompt, params({ maxNewTokens: 60 })).outputIds;
    expect(w.tokenizer.decode(out).length).toBeGreaterThan(20);
  });
});

describe("Generate", () => {
  it("streams delta chunks with running counters, then a complete with only the final frame's ids", async () => {
    const { frames, error } = await collect(
      client.generate({ requestId: "s1", tokenized: { inputIds: prompt }, samplingParams: { maxNewTokens: 12 }, stream: true }),
    );
    expect(error).toBeUndefined();
    const expected = expectedGeneration(w.textModel, prompt, params({ maxNewTokens: 12 }));
    const c = byChoice(frames).get(0)!;
    expect(frames.every((f) => f.requestId === "s1")).toBe(true);
    expect(c.chunks).toHaveLength(12); // one chunk per decode step
    c.chunks.forEach((ch, i) => {
      expect(ch.tokenIds).toHaveLength(1);
      expect(ch.completionTokens).toBe(i + 1);
      expect(ch.promptTokens).toBe(prompt.length);
    });
    expect(c.streamed).toEqual(expected.outputIds);
    expect(frames.at(-1)!.response.case).toBe("complete");
    expect(c.complete!.outputIds).toEqual(c.chunks.at(-1)!.tokenIds);
    expect(c.complete!.finishReason).toBe("length");
    expect(c.complete!.matchedStop.case).toBeUndefined();
    expect(c.complete!.completionTokens).toBe(12);
    expect(c.complete!.promptTokens).toBe(prompt.length);
  });

  it("non-stream: one complete with the full ids, equal to the stream deltas and the pure helper", async () => {
    const req = { tokenized: { inputIds: prompt }, samplingParams: { maxNewTokens: 20 } };
    const streamed = byChoice((await collect(client.generate({ ...req, requestId: "a", stream: true }))).frames).get(0)!.streamed;
    const { frames, error } = await collect(client.generate({ ...req, requestId: "b", stream: false }));
    expect(error).toBeUndefined();
    expect(frames).toHaveLength(1);
    expect(frames[0].response.case).toBe("complete");
    const complete = byChoice(frames).get(0)!.complete!;
    expect(complete.outputIds).toEqual(streamed);
    expect(complete.outputIds).toEqual(expectedGeneration(w.textModel, prompt, params({ maxNewTokens: 20 })).outputIds);
    expect(complete.completionTokens).toBe(20);
  });

  it("uses defaultMaxNewTokens (128) when max_new_tokens is unset", async () => {
    const { frames } = await collect(client.generate({ requestId: "d", tokenized: { inputIds: prompt }, stream: false }));
    const complete = byChoice(frames).get(0)!.complete!;
    expect(complete.completionTokens).toBe(128);
    expect(complete.finishReason).toBe("length");
  });

  it("n=3: interleaved choices tagged by index, one complete each, caller's request_id", async () => {
    const { frames, error } = await collect(
      client.generate({ requestId: "multi", tokenized: { inputIds: prompt }, samplingParams: { maxNewTokens: 8, n: 3 }, stream: true }),
    );
    expect(error).toBeUndefined();
    const choices = byChoice(frames);
    expect([...choices.keys()].sort()).toEqual([0, 1, 2]);
    expect(frames.every((f) => f.requestId === "multi")).toBe(true);
    // Interleaved: the first three frames belong to three different choices.
    expect(new Set(frames.slice(0, 3).map((f) => (f.response.value as { index: number }).index)).size).toBe(3);
    for (const [k, c] of choices) {
      expect(c.complete?.index).toBe(k);
      // Child k samples with seed + k.
      expect(c.streamed).toEqual(expectedGeneration(w.textModel, prompt, params({ seed: k, maxNewTokens: 8 })).outputIds);
    }
    expect(choices.get(0)!.streamed).not.toEqual(choices.get(1)!.streamed);
    expect(frames.filter((f) => f.response.case === "complete")).toHaveLength(3);
  });

  it("stop_token_ids: trims the matched id and reports matched_token_id; no_stop_trim keeps it", async () => {
    const full = expectedGeneration(w.textModel, prompt, params({ maxNewTokens: 40 })).outputIds;
    const at = full.findIndex((id, i) => i >= 5 && full.indexOf(id) === i);
    const stopId = full[at];
    const req = { tokenized: { inputIds: prompt }, samplingParams: { maxNewTokens: 40, stopTokenIds: [stopId] } };

    const streamed = await collect(client.generate({ ...req, requestId: "st1", stream: true }));
    const c = byChoice(streamed.frames).get(0)!;
    expect(c.streamed).toEqual(full.slice(0, at));
    expect(c.chunks.at(-1)!.tokenIds).toEqual([]); // final frame emptied by trimming
    expect(c.complete!.outputIds).toEqual([]);
    expect(c.complete!.finishReason).toBe("stop");
    expect(c.complete!.matchedStop).toEqual({ case: "matchedTokenId", value: stopId });
    expect(c.complete!.completionTokens).toBe(at + 1);

    const nonStream = await collect(client.generate({ ...req, requestId: "st2" }));
    expect(byChoice(nonStream.frames).get(0)!.complete!.outputIds).toEqual(full.slice(0, at));

    const kept = await collect(
      client.generate({ ...req, requestId: "st3", samplingParams: { ...req.samplingParams, noStopTrim: true } }),
    );
    const k = byChoice(kept.frames).get(0)!.complete!;
    expect(k.outputIds).toEqual(full.slice(0, at + 1));
    expect(k.matchedStop).toEqual({ case: "matchedTokenId", value: stopId });
  });

  it("stop strings: matched_stop_str on the detokenized tail, ids not trimmed", async () => {
    const full = expectedGeneration(w.textModel, prompt, params({ maxNewTokens: 60 })).outputIds;
    const dec = (ids: number[]) => w.tokenizer.decode(ids);
    // A clean word whose first occurrence completes at token i > 3.
    let stop = "";
    let at = -1;
    for (let i = 4; i < full.length && at < 0; i++) {
      const s = dec([full[i]]).trim();
      if (s.length >= 3 && !s.includes("\uFFFD") && !dec(full.slice(0, i)).includes(s)) [stop, at] = [s, i];
    }
    expect(at).toBeGreaterThan(0);
    const { frames } = await collect(
      client.generate({ requestId: "ss", tokenized: { inputIds: prompt }, samplingParams: { maxNewTokens: 60, stop: [stop] }, stream: true }),
    );
    const c = byChoice(frames).get(0)!;
    expect(c.complete!.finishReason).toBe("stop");
    expect(c.complete!.matchedStop).toEqual({ case: "matchedStopStr", value: stop });
    expect(c.streamed).toEqual(full.slice(0, at + 1));
    expect(dec(c.streamed).endsWith(stop) || dec(c.streamed).includes(stop)).toBe(true);
    expect(c.streamed).toEqual(expectedGeneration(w.textModel, prompt, params({ maxNewTokens: 60, stop: [stop] })).outputIds);
  });

  it("EOS only when eosEvery > 0, trimmed and reported; ignore_eos disables it", async () => {
    const eosW = await startSimWorker({ eosEvery: 5, decodeMsPerToken: 1 });
    const c2 = schedulerClient(eosW.address);
    try {
      const { frames } = await collect(c2.generate({ requestId: "e", tokenized: { inputIds: prompt }, samplingParams: { maxNewTokens: 200 } }));
      const done = byChoice(frames).get(0)!.complete!;
      expect(done.finishReason).toBe("stop");
      expect(done.matchedStop).toEqual({ case: "matchedTokenId", value: eosW.tokenizer.imEndId });
      expect(done.outputIds).not.toContain(eosW.tokenizer.imEndId);
      expect(done.completionTokens).toBe(done.outputIds.length + 1);
      expect(done.outputIds).toEqual(expectedGeneration(eosW.textModel, prompt, params({ maxNewTokens: 200, eosEvery: 5 })).outputIds);
      const ign = await collect(
        c2.generate({ requestId: "e2", tokenized: { inputIds: prompt }, samplingParams: { maxNewTokens: 50, ignoreEos: true } }),
      );
      expect(byChoice(ign.frames).get(0)!.complete!.finishReason).toBe("length");
    } finally {
      c2.close();
      await eosW.stop();
    }
  });

  it("empty or missing input_ids => INVALID_ARGUMENT with no frames", async () => {
    const empty = await collect(client.generate({ requestId: "x", tokenized: { inputIds: [] }, stream: true }));
    expect(empty.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(empty.frames).toHaveLength(0);
    const missing = await collect(client.generate({ requestId: "y", stream: true }));
    expect(missing.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it("replay determinism: prompt + first 15 tokens continues with tokens 15..40", async () => {
    const first = await collect(
      client.generate({ requestId: "r1", tokenized: { inputIds: prompt }, samplingParams: { maxNewTokens: 40 }, stream: true }),
    );
    const all = byChoice(first.frames).get(0)!.streamed;
    expect(all).toHaveLength(40);
    const replay = await collect(
      client.generate({
        requestId: "r2",
        tokenized: { inputIds: [...prompt, ...all.slice(0, 15)] },
        samplingParams: { maxNewTokens: 25 },
        stream: true,
      }),
    );
    const rest = byChoice(replay.frames).get(0)!;
    expect(rest.streamed).toEqual(all.slice(15));
    expect(rest.complete!.promptTokens).toBe(prompt.length + 15);
  });

  it("seed from custom_params changes the output deterministically", async () => {
    const run = async (rid: string, seed: number) =>
      byChoice(
        (
          await collect(
            client.generate({ requestId: rid, tokenized: { inputIds: prompt }, samplingParams: { maxNewTokens: 10, customParams: { seed } } }),
          )
        ).frames,
      ).get(0)!.complete!.outputIds;
    const a = await run("seed-a", 7);
    expect(await run("seed-b", 7)).toEqual(a);
    expect(a).toEqual(expectedGeneration(w.textModel, prompt, params({ seed: 7, maxNewTokens: 10 })).outputIds);
    expect(await run("seed-c", 8)).not.toEqual(a);
  });
});
