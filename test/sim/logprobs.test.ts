// OutputLogProbs per the wire doc: chunk slices aligned with the chunk's
// token_ids, the complete carries them too, top-k sorted descending with the
// chosen token first; deterministic; absent unless return_logprob.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutputLogProbs } from "../../contract/grpc/tokenspeed/tokenspeed_scheduler_pb.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { qwen3Prompt, TOOLS } from "./agent-prompts.js";
import { byChoice, collect, schedulerClient } from "./helpers.js";

let w: SimWorker;
let client: ReturnType<typeof schedulerClient>;
let prompt: number[];

beforeAll(async () => {
  w = await startSimWorker({ decodeMsPerToken: 0.2, decodeMsPerRunning: 0, toolCallRate: 1 });
  client = schedulerClient(w.address);
  prompt = w.tokenizer.encode(qwen3Prompt([{ role: "user", content: "Weather in Rome?" }], TOOLS, true));
});

afterAll(async () => {
  client.close();
  await w.stop();
});

let rid = 0;
const run = async (stream: boolean, topK: number, returnLogprob = true) =>
  byChoice(
    (
      await collect(
        client.generate({
          requestId: `lp-${++rid}`,
          tokenized: { inputIds: prompt },
          samplingParams: { maxNewTokens: 30 },
          returnLogprob,
          topLogprobsNum: topK,
          stream,
        }),
      )
    ).frames,
  ).get(0)!;

function checkShape(lp: OutputLogProbs | undefined, ids: number[], k: number) {
  expect(lp).toBeDefined();
  expect(lp!.tokenIds).toEqual(ids);
  expect(lp!.tokenLogprobs).toHaveLength(ids.length);
  expect(lp!.topLogprobs).toHaveLength(ids.length);
  lp!.tokenLogprobs.forEach((v, i) => {
    expect(v).toBeLessThanOrEqual(0);
    const top = lp!.topLogprobs[i];
    expect(top.values).toHaveLength(k);
    expect(top.tokenIds).toHaveLength(k);
    if (k) {
      expect(top.tokenIds[0]).toBe(ids[i]);
      expect(top.values[0]).toBe(v);
      expect(new Set(top.tokenIds).size).toBe(k);
      for (let j = 1; j < k; j++) expect(top.values[j]).toBeLessThanOrEqual(top.values[j - 1]);
      expect(top.values.reduce((a, x) => a + Math.exp(x), 0)).toBeLessThanOrEqual(1.0001);
    }
  });
}

describe("logprobs", () => {
  it("stream: every chunk carries a slice aligned with its token_ids; the complete too", async () => {
    const c = await run(true, 5);
    for (const ch of c.chunks) checkShape(ch.outputLogprobs, ch.tokenIds, 5);
    checkShape(c.complete!.outputLogprobs, c.complete!.outputIds, 5);
  });

  it("non-stream complete: logprobs for all output ids, equal to the concatenated stream slices", async () => {
    const n = await run(false, 3);
    checkShape(n.complete!.outputLogprobs, n.complete!.outputIds, 3);
    const s = await run(true, 3);
    expect(s.chunks.flatMap((ch) => ch.outputLogprobs!.tokenLogprobs)).toEqual(n.complete!.outputLogprobs!.tokenLogprobs);
    expect(s.chunks.flatMap((ch) => ch.outputLogprobs!.topLogprobs.map((t) => t.tokenIds))).toEqual(
      n.complete!.outputLogprobs!.topLogprobs.map((t) => t.tokenIds),
    );
  });

  it("top_logprobs_num 0: empty placeholders per position; no return_logprob: field absent", async () => {
    const z = await run(false, 0);
    checkShape(z.complete!.outputLogprobs, z.complete!.outputIds, 0);
    const none = await run(true, 0, false);
    expect(none.chunks.every((ch) => ch.outputLogprobs === undefined)).toBe(true);
    expect(none.complete!.outputLogprobs).toBeUndefined();
  });

  it("a trimmed EOS has no logprob entry (aligned with the visible ids)", async () => {
    const { frames } = await collect(
      client.generate({ requestId: "lp-eos", tokenized: { inputIds: prompt }, samplingParams: { maxNewTokens: 500 }, returnLogprob: true, topLogprobsNum: 2, stream: true }),
    );
    const c = byChoice(frames).get(0)!;
    expect(c.complete!.finishReason).toBe("stop");
    expect(c.chunks.at(-1)!.tokenIds).toEqual([]);
    checkShape(c.chunks.at(-1)!.outputLogprobs, [], 2);
    expect(c.chunks.flatMap((ch) => ch.outputLogprobs!.tokenIds)).toEqual(c.streamed);
  });
});
