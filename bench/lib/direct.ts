// The baseline: the same streaming load sent straight to simulated workers over
// gRPC, with no edge, Redis or pool in between.
import { createClient, type ServiceClient } from "../../pool/workers/grpc-bridge.js";
import { TokenSpeedScheduler } from "../../contract/grpc/tokenspeed/tokenspeed_scheduler_pb.js";
import type { StreamSample } from "./stream-load.js";

type Client = ServiceClient<(typeof TokenSpeedScheduler)["method"]>;

export function directClients(addresses: string[]): Client[] {
  return addresses.map((a) => createClient(TokenSpeedScheduler, a));
}

/** One streamed Generate, timed like an SSE stream (one "event" per chunk with tokens). */
export function timeDirectStream(client: Client, requestId: string, inputIds: number[], maxNewTokens: number): Promise<StreamSample> {
  return new Promise((resolve) => {
    const start = performance.now();
    let first = -1;
    let last = -1;
    const itl: number[] = [];
    let tokens = 0;
    const call = client.generate({
      requestId,
      stream: true,
      tokenized: { inputIds },
      samplingParams: { temperature: 0, maxNewTokens, skipSpecialTokens: true },
    });
    call.on("data", (frame) => {
      if (frame.response.case === "chunk" && frame.response.value.tokenIds.length > 0) {
        const now = performance.now();
        if (first < 0) first = now;
        else itl.push(now - last);
        last = now;
      } else if (frame.response.case === "complete") {
        tokens = frame.response.value.completionTokens;
      }
    });
    call.on("error", (err) => resolve({ ttftMs: NaN, itlMs: [], tokens: 0, totalMs: NaN, error: String(err) }));
    call.on("end", () => resolve({ ttftMs: first - start, itlMs: itl, tokens, totalMs: performance.now() - start }));
  });
}
