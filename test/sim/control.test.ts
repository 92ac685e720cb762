// Cancellation, Abort, GetLoads, health (both kinds), info and admin RPCs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpc } from "../../pool/workers/grpc-bridge.js";
import { HealthCheckResponse_ServingStatus as ServingStatus } from "../../contract/grpc/grpc/health/v1/health_pb.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { cancelAndWait, collect, healthClient, nextFrames, schedulerClient, waitEvent } from "./helpers.js";

let w: SimWorker;
let client: ReturnType<typeof schedulerClient>;
let health: ReturnType<typeof healthClient>;
const prompt = Array.from({ length: 40 }, (_, i) => 1000 + i);

beforeAll(async () => {
  w = await startSimWorker({ decodeMsPerToken: 2 });
  client = schedulerClient(w.address);
  health = healthClient(w.address);
});

afterAll(async () => {
  client.close();
  health.close();
  await w.stop();
});

const longStream = (requestId: string, n = 1, inputIds = prompt) =>
  client.generate({ requestId, tokenized: { inputIds }, samplingParams: { maxNewTokens: 100_000, ignoreEos: true, n }, stream: true });

describe("cancellation and Abort", () => {
  it("client cancel mid-stream: the worker emits cancel and frees the request at once", async () => {
    const call = longStream("c1");
    call.on("error", () => {}); // the local CANCELLED status
    await nextFrames(call, 3);
    expect(w.stats().running).toBe(1);
    const cancelled = waitEvent(w.events, "cancel");
    const before = Date.now();
    call.cancel();
    const [rid, atMs] = (await cancelled) as [string, number];
    expect(rid).toBe("c1");
    expect(atMs).toBeGreaterThanOrEqual(before - 1);
    expect(w.stats().running).toBe(0);
    expect(w.stats().waiting).toBe(0);
    expect(w.stats().openGenerateCalls).toBe(0);
  });

  it("Abort: success for a running rid (stream stays open, no more frames); false for unknown", async () => {
    const call = longStream("ab1");
    call.on("error", () => {});
    await nextFrames(call, 2);
    const aborted = waitEvent(w.events, "abort");
    const res = await client.abort({ requestId: "ab1", reason: "test" });
    expect(res.success).toBe(true);
    expect(res.message).toBe("Aborted 1 request(s) for ab1");
    expect((await aborted)[0]).toBe("ab1");
    expect(w.stats().running).toBe(0);
    // Per the real servicer the Generate stream is not ended by Abort.
    expect(w.stats().openGenerateCalls).toBe(1);
    const unknown = await client.abort({ requestId: "nope" });
    expect(unknown).toMatchObject({ success: false, message: "Request nope not found" });
    const cancelled = waitEvent(w.events, "cancel");
    call.cancel();
    await cancelled;
    expect(w.stats().openGenerateCalls).toBe(0);
  });

  it("Abort of an n>1 request aborts every {rid}-n<k> child", async () => {
    const call = longStream("fam", 3);
    call.on("error", () => {});
    await nextFrames(call, 3);
    const res = await client.abort({ requestId: "fam" });
    expect(res).toMatchObject({ success: true, message: "Aborted 3 request(s) for fam" });
    expect(w.stats().running).toBe(0);
    await cancelAndWait(w.events, [{ call, requestId: "fam" }]);
  });
});

describe("GetLoads", () => {
  it("reports running requests and token usage while streams are open", async () => {
    // Distinct prompts: no shared prefix pages, so each holds >= 3 pages (41+ tokens).
    const ids = ["l1", "l2", "l3"];
    const calls = ids.map((id, k) => longStream(id, 1, prompt.map((t) => t + 100 * (k + 1))));
    for (const c of calls) c.on("error", () => {});
    await Promise.all(calls.map((c) => nextFrames(c, 1)));
    const res = await client.getLoads({ include: ["core", "memory", "queues"] });
    expect(res.version).toBe("tokenspeed");
    expect(new Date(res.timestamp).toISOString()).toBe(res.timestamp);
    expect(res.dpRankCount).toBe(1);
    const l = res.loads[0];
    expect(l.dpRank).toBe(0);
    expect(l.numRunningReqs).toBe(3);
    expect(l.numWaitingReqs).toBe(0);
    expect(l.numTotalReqs).toBe(3);
    expect(l.maxTotalNumTokens).toBe(524288);
    expect(l.numUsedTokens).toBeGreaterThanOrEqual(3 * 48);
    expect(l.tokenUsage).toBeCloseTo(l.numUsedTokens / l.maxTotalNumTokens, 9);
    expect(l.maxRunningRequests).toBe(256);
    expect(res.aggregate?.totalRunningReqs).toBe(3);
    expect((await client.getLoads({ dpRank: 1 })).loads).toHaveLength(0);
    await cancelAndWait(w.events, calls.map((call, k) => ({ call, requestId: ids[k] })));
    expect(w.stats().openGenerateCalls).toBe(0);
  });

  it("counts waiting requests beyond maxRunning, with their uncached prompt tokens", async () => {
    const small = await startSimWorker({ maxRunning: 1, decodeMsPerToken: 2 });
    const c2 = schedulerClient(small.address);
    try {
      const a = c2.generate({ requestId: "w1", tokenized: { inputIds: prompt }, samplingParams: { maxNewTokens: 100_000 }, stream: true });
      const b = c2.generate({ requestId: "w2", tokenized: { inputIds: [5, 6, 7, 8, 9] }, samplingParams: { maxNewTokens: 5 }, stream: true });
      a.on("error", () => {});
      b.on("error", () => {});
      await nextFrames(a, 1);
      const l = (await c2.getLoads({})).loads[0];
      expect(l.numRunningReqs).toBe(1);
      expect(l.numWaitingReqs).toBe(1);
      expect(l.numWaitingUncachedTokens).toBe(5);
      await cancelAndWait(small.events, [{ call: a, requestId: "w1" }]);
      // Once the running one is gone the waiting one is admitted and completes.
      const rest = await collect(b);
      expect(rest.frames.at(-1)?.response.case).toBe("complete");
    } finally {
      c2.close();
      await small.stop();
    }
  });
});

describe("health", () => {
  it("grpc.health.v1: SERVING for '' and the scheduler service, NOT_FOUND otherwise; Watch sends once", async () => {
    expect((await health.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    expect((await health.check({ service: "tokenspeed.grpc.scheduler.TokenSpeedScheduler" })).status).toBe(ServingStatus.SERVING);
    await expect(health.check({ service: "unknown.Service" })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    const watched = await collect(health.watch({ service: "" }));
    expect(watched.error).toBeUndefined();
    expect(watched.frames.map((f) => f.status)).toEqual([ServingStatus.SERVING]);
  });

  it("HealthCheck runs a deep probe and reports healthy", async () => {
    const res = await client.healthCheck({});
    expect(res.healthy).toBe(true);
    expect(w.stats().running).toBe(0);
  });
});

describe("info and admin RPCs", () => {
  it("GetModelInfo describes a Qwen3 model with its EOS ids", async () => {
    const info = await client.getModelInfo({});
    expect(info.servedModelName).toBe("qwen3-sim");
    expect(info.modelType).toBe("qwen3");
    expect(info.maxContextLength).toBe(32768);
    expect(info.eosTokenIds).toEqual([w.tokenizer.imEndId, w.tokenizer.endOfTextId]);
    expect(info.eosTokenIds).toEqual([151645, 151643]);
    expect(info.tokenizerPath).toBe(w.tokenizer.dir);
  });

  it("GetServerInfo has server_args, counts and a whole-second start_time", async () => {
    const info = await client.getServerInfo({});
    expect(info.serverArgs?.served_model_name).toBe("qwen3-sim");
    expect(info.serverArgs?.max_running_requests).toBe(256);
    expect(info.maxTotalNumTokens).toBe(524288);
    expect(info.tokenspeedVersion).toBe("sim");
    expect(info.startTime?.nanos).toBe(0);
    expect(Number(info.startTime?.seconds)).toBeLessThanOrEqual(Date.now() / 1000);
    expect(info.uptimeSeconds).toBeGreaterThan(0);
    expect(info.activeRequests).toBe(0);
  });

  it("profiles succeed; FlushCache refuses while a request is in flight", async () => {
    expect((await client.startProfile({})).success).toBe(true);
    expect((await client.stopProfile({})).success).toBe(true);
    const call = longStream("busy");
    call.on("error", () => {});
    await nextFrames(call, 1);
    expect((await client.flushCache({})).success).toBe(false);
    await cancelAndWait(w.events, [{ call, requestId: "busy" }]);
    expect((await client.flushCache({})).success).toBe(true);
  });

  it("rejects a duplicate in-flight request id", async () => {
    const call = longStream("dup");
    call.on("error", () => {});
    await nextFrames(call, 1);
    const second = await collect(longStream("dup"));
    expect(second.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    await cancelAndWait(w.events, [{ call, requestId: "dup" }]);
  });
});
