// The baseline: the same streaming load sent straight to simulated workers over
// gRPC, with no edge, Redis or pool in between.
import { createClient, type ServiceClient } from "../../pool/workers/grpc-bridge.js";
import { TokenSpeedScheduler } from "../../contract/grpc/tokenspeed/tokenspeed_scheduler_pb.js";
import { loadSimTokenizer } from "../../sim/tokenizer.js";
import { tokenBytesOf } from "../../pool/tokenizer/token-bytes.js";
import type { StreamSample } from "./stream-load.js";

type Client = ServiceClient<(typeof TokenSpeedScheduler)["method"]>;

export function directClients(addresses: string[]): Client[] {
  return addresses.map((a) => createClient(TokenSpeedScheduler, a));
}

let bytesOfToken: ((id: number) => Uint8Array) | undefined;

/**
 * One streamed Generate, timed like an SSE stream (one "event" per chunk with tokens).
 * Also the gaps between the frames that add visible text (textItlMs): a token that
 * holds part of a character (the sim's CJK and emoji are split across tokens) shows
 * nothing until the token that completes it, for a client of the engine as for one
 * of the gateway, whose chunks carry text.
 */
export function timeDirectStream(client: Client, requestId: string, inputIds: number[], maxNewTokens: number): Promise<StreamSample> {
  bytesOfToken ??= tokenBytesOf(loadSimTokenizer().tokenizer);
  const bytesOf = bytesOfToken;
  return new Promise((resolve) => {
    const start = performance.now();
    let first = -1;
    let last = -1;
    let lastText = -1;
    const itl: number[] = [];
    const textItl: number[] = [];
    const text = new TextDecoder();
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
        let shown = false;
        for (const id of frame.response.value.tokenIds) if (text.decode(bytesOf(id), { stream: true }) !== "") shown = true;
        if (shown) {
          if (lastText >= 0) textItl.push(now - lastText);
          lastText = now;
        }
      } else if (frame.response.case === "complete") {
        tokens = frame.response.value.completionTokens;
      }
    });
    call.on("error", (err) => resolve({ ttftMs: NaN, itlMs: [], tokens: 0, totalMs: NaN, error: String(err) }));
    call.on("end", () => resolve({ ttftMs: first - start, itlMs: itl, textItlMs: textItl, tokens, totalMs: performance.now() - start }));
  });
}
