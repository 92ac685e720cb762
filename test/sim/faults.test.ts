// Fault injection: the failure shapes the pool must survive.
import { afterEach, describe, expect, it } from "vitest";
import { grpc } from "../../pool/workers/grpc-bridge.js";
import { startSimWorker, type SimOptions } from "../../sim/server.js";
import { byChoice, collect, deadline, nextFrames, schedulerClient, waitEvent } from "./helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function worker(opts: SimOptions = {}) {
  const w = await startSimWorker({ decodeMsPerToken: 2, ...opts });
  const client = schedulerClient(w.address);
  cleanups.push(() => w.stop(1000), () => client.close());
  return { w, client };
}

const prompt = Array.from({ length: 30 }, (_, i) => 2000 + i);
const gen = (client: ReturnType<typeof schedulerClient>, requestId: string, maxNewTokens: number, opts: grpc.CallOptions = {}) =>
  client.generate({ requestId, tokenized: { inputIds: prompt }, samplingParams: { maxNewTokens }, stream: true }, opts);

describe("faults", () => {
  it("failBeforeFirstToken(n): the next n calls fail UNAVAILABLE with no frames, then calls succeed", async () => {
    const { w, client } = await worker();
    w.faults.failBeforeFirstToken(2);
    for (const rid of ["f1", "f2"]) {
      const r = await collect(gen(client, rid, 5));
      expect(r.error?.code).toBe(grpc.status.UNAVAILABLE);
      expect(r.frames).toHaveLength(0);
    }
    const ok = await collect(gen(client, "f3", 5));
    expect(ok.error).toBeUndefined();
    expect(byChoice(ok.frames).get(0)!.complete?.finishReason).toBe("length");
  });

  it("failMidStream(n, k): k tokens of chunks, then INTERNAL; the request is freed", async () => {
    const { w, client } = await worker();
    w.faults.failMidStream(1, 5);
    const r = await collect(gen(client, "m1", 50));
    expect(r.error?.code).toBe(grpc.status.INTERNAL);
    const c = byChoice(r.frames).get(0)!;
    expect(c.streamed).toHaveLength(5);
    expect(c.complete).toBeUndefined();
    expect(w.stats().running).toBe(0);
    expect(w.stats().openGenerateCalls).toBe(0);
    // Only one charge: the next call completes.
    const ok = await collect(gen(client, "m2", 8));
    expect(byChoice(ok.frames).get(0)!.streamed).toHaveLength(8);
  });

  it("hang: no frames and no HealthCheck answer (deadlines fire); resuming serves again", async () => {
    const { w, client } = await worker();
    w.faults.hang(true);
    const r = await collect(gen(client, "h1", 5, { deadline: deadline(300) }));
    expect(r.error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(r.frames).toHaveLength(0);
    await expect(client.healthCheck({}, { deadline: deadline(300) })).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    w.faults.hang(false);
    expect((await client.healthCheck({}, { deadline: deadline(5000) })).healthy).toBe(true);
    const ok = await collect(gen(client, "h2", 5));
    expect(byChoice(ok.frames).get(0)!.streamed).toHaveLength(5);
  });

  it("HealthCheck reports unhealthy when the probe exceeds the worker's own timeout", async () => {
    const { w, client } = await worker({ healthCheckTimeoutMs: 100 });
    w.faults.hang(true);
    const res = await client.healthCheck({});
    expect(res.healthy).toBe(false);
    expect(res.message).toMatch(/timeout/i);
    expect(w.stats().waiting).toBe(0); // the probe was withdrawn
  });

  it("slowdown(factor) stretches step times", async () => {
    const { w, client } = await worker({ decodeMsPerToken: 4 });
    const time = async (rid: string) => {
      const t0 = performance.now();
      await collect(gen(client, rid, 20));
      return performance.now() - t0;
    };
    const normal = await time("n");
    w.faults.slowdown(6);
    const slow = await time("s");
    expect(slow).toBeGreaterThan(normal * 2.5);
    expect(slow).toBeGreaterThan(20 * 4 * 6 * 0.9);
  });

  it("crash(): in-flight streams break and the port stops answering", async () => {
    const { w, client } = await worker();
    const call = gen(client, "x1", 100_000);
    const ended = collect(call);
    await nextFrames(call, 2);
    w.faults.crash();
    const r = await ended;
    expect(r.error).toBeDefined();
    expect(r.error!.code).not.toBe(grpc.status.OK);
    await expect(client.getModelInfo({}, { deadline: deadline(2000) })).rejects.toMatchObject({
      code: expect.toSatisfy((c: number) => c === grpc.status.UNAVAILABLE || c === grpc.status.DEADLINE_EXCEEDED),
    });
  });

  it("stop(): graceful, lets in-flight generations finish", async () => {
    const w = await startSimWorker({ decodeMsPerToken: 2 });
    const client = schedulerClient(w.address);
    cleanups.push(() => client.close());
    const call = gen(client, "g1", 30);
    const done = collect(call);
    await nextFrames(call, 1);
    const finished = waitEvent(w.events, "finish");
    await w.stop();
    const r = await done;
    await finished;
    expect(r.error).toBeUndefined();
    expect(byChoice(r.frames).get(0)!.streamed).toHaveLength(30);
  });
});
