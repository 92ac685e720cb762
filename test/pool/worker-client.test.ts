// WorkerClient.generate against a real simulated worker over loopback gRPC: frames
// reach the handlers in order, and every way a call ends early (a handler's "stop",
// the caller's signal, a throwing handler) cancels it on the worker and sends Abort;
// a frame that does not decode fails the call as grpc-js would (INTERNAL).
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { status as Status } from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { GenerateResponseSchema, TokenSpeedScheduler } from "../../contract/grpc/tokenspeed/tokenspeed_scheduler_pb.js";
import { toGrpcServiceDefinition } from "../../pool/workers/grpc-bridge.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { WorkerClient, type GenerateHandlers } from "../../pool/workers/client.js";

let sim: SimWorker;
let client: WorkerClient;

beforeAll(async () => {
  sim = await startSimWorker({ decodeMsPerToken: 2 });
  client = new WorkerClient(sim.address);
});
afterAll(async () => {
  client?.close();
  await sim?.stop(100);
});

const prompt = Array.from({ length: 24 }, (_, i) => 3000 + i);
const request = (requestId: string, maxNewTokens: number, n = 1) => ({
  requestId,
  tokenized: { inputIds: prompt },
  samplingParams: { maxNewTokens, n, temperature: 0 },
  stream: true,
});

/** Resolves with the rids of the worker's next cancelled call and next Abort RPC. */
const stoppedOnWorker = () => Promise.all([once(sim.events, "cancel"), once(sim.events, "abort-call")]).then(([c, a]) => [c[0], a[0]]);

describe("WorkerClient.generate", () => {
  it("hands every frame to the handlers in order and resolves undefined when the stream ends", async () => {
    const seen: string[] = [];
    let tokens = 0;
    const h: GenerateHandlers = {
      chunk: (c) => {
        seen.push(`chunk${c.index}`);
        tokens += c.tokenIds.length;
      },
      complete: (c) => void seen.push(`complete${c.index}:${c.finishReason}`),
    };
    expect(await client.generate(request("g1", 7, 2), h)).toBeUndefined();
    expect(tokens).toBe(14);
    // n=2: one complete per choice, each after that choice's chunks
    expect(seen.filter((s) => s.startsWith("complete")).sort()).toEqual(["complete0:length", "complete1:length"]);
    for (const i of [0, 1]) expect(seen.lastIndexOf(`chunk${i}`)).toBeLessThan(seen.indexOf(`complete${i}:length`));
  });

  it('a handler\'s "stop" ends the call at once: no more frames, the worker\'s call is cancelled and sent Abort', async () => {
    let chunks = 0;
    const stopped = stoppedOnWorker();
    const r = await client.generate(request("g2", 5_000), {
      chunk: () => (++chunks === 3 ? "stop" : undefined),
      complete: () => {
        throw new Error("no complete expected");
      },
    });
    expect(r).toBeUndefined();
    expect(await stopped).toEqual(["g2", "g2"]);
    expect(chunks).toBe(3);
  });

  it("the caller's signal ends the call the same way", async () => {
    const ac = new AbortController();
    const stopped = stoppedOnWorker();
    const r = client.generate(request("g3", 5_000), { chunk: () => ac.abort(), complete: () => {} }, ac.signal);
    expect(await r).toBeUndefined();
    expect(await stopped).toEqual(["g3", "g3"]);
  });

  it("a throwing handler rejects the call (the process does not crash) and stops it on the worker", async () => {
    const stopped = stoppedOnWorker();
    const r = client.generate(request("g4", 5_000), {
      chunk: () => {
        throw new Error("handler bug");
      },
      complete: () => {},
    });
    await expect(r).rejects.toThrow("handler bug");
    expect(await stopped).toEqual(["g4", "g4"]);
  });

  it("resolves with the worker's error after the frames it sent", async () => {
    sim.faults.failMidStream(1, 4);
    let tokens = 0;
    const r = await client.generate(request("g5", 50), { chunk: (c) => void (tokens += c.tokenIds.length), complete: () => {} });
    expect(r?.code).toBe(Status.INTERNAL);
    expect(tokens).toBe(4);
  });

  it("a frame that does not decode fails the call with INTERNAL, after the frames before it", async () => {
    // A worker whose second frame is a truncated message (field 1 claims 5 bytes, has 1).
    const server = new grpc.Server();
    const def = toGrpcServiceDefinition(TokenSpeedScheduler);
    let frames = 0;
    const good = def.generate!.responseSerialize;
    def.generate!.responseSerialize = (msg: unknown) => (++frames === 2 ? Buffer.from([0x0a, 0x05, 0x01]) : good(msg));
    server.addService(def, {
      generate: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const chunk = { response: { case: "chunk", value: { tokenIds: [7], index: 0 } } };
        call.write(create(GenerateResponseSchema, chunk as never));
        call.write(create(GenerateResponseSchema, chunk as never));
        call.write(create(GenerateResponseSchema, chunk as never));
        call.end();
      },
    });
    const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    const bad = new WorkerClient(`127.0.0.1:${port}`);
    try {
      let tokens = 0;
      const r = await bad.generate(request("g6", 3), { chunk: (c) => void (tokens += c.tokenIds.length), complete: () => {} });
      expect(r?.code).toBe(Status.INTERNAL);
      expect(r?.message).toMatch(/parsing/);
      expect(tokens).toBe(1);
    } finally {
      bad.close();
      server.forceShutdown();
    }
  });
});
