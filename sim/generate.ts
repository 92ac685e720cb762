// TokenSpeedScheduler/Generate, following the real servicer (wire doc §3.2–3.5):
// - stream=true: one chunk per engine step per choice with DELTA token_ids and
//   running counters; on a choice's final step the chunk is followed by a
//   `complete` built from the same frame (so output_ids = only that frame's ids);
// - stream=false: no chunks, one `complete` per choice with all output ids,
//   sent together once every choice has finished;
// - a matched stop token (EOS or stop_token_ids) is trimmed from the ids
//   unless no_stop_trim; stop strings are reported but never trimmed;
// - n>1: children `{rid}-n{k}` in the engine, frames tagged with `index`,
//   request_id always the caller's id;
// - errors only as gRPC statuses; a client cancel stops generation at once;
// - the `constraint` oneof is compiled before anything is queued (a bad one is
//   INVALID_ARGUMENT, like the engine's grammar backend); what the model writes
//   (thinking, tool calls, constrained text) is planned in agent/plan.ts;
// - return_logprob: OutputLogProbs aligned with exactly the ids of each frame.
import type { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  GenerateCompleteSchema,
  GenerateResponseSchema,
  type GenerateComplete,
  type GenerateRequest,
  type GenerateResponse,
} from "../contract/grpc/tokenspeed/tokenspeed_scheduler_pb.js";
import { compileConstraint, ConstraintError, type Constraint } from "./agent/constraint.js";
import type { Family } from "./agent/family.js";
import { outputLogprobs } from "./agent/logprobs.js";
import type { Engine, Seq } from "./engine.js";
import type { SimFaults } from "./faults.js";
import type { GenParams } from "./text-model.js";

export interface GenerateDeps {
  engine: Engine;
  faults: SimFaults;
  events: EventEmitter;
  defaultMaxNewTokens: number;
  eosEvery: number;
  family?: Family;
  toolCallRate?: number;
  parallelCallRate?: number;
  /** Open Generate calls, so stop()/kill() can account for them. */
  openCalls: Set<grpc.ServerWritableStream<GenerateRequest, GenerateResponse>>;
}

export function statusError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** Epoch milliseconds with sub-ms precision, for latency measurements across processes. */
export function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Seed from `sampling_params.custom_params.seed` (the proto has no seed field); 0 if absent. */
function seedOf(req: GenerateRequest): number {
  const s = req.samplingParams?.customParams?.seed;
  return typeof s === "number" && Number.isFinite(s) ? Math.trunc(s) : 0;
}

export function toGenParams(
  req: GenerateRequest,
  deps: Pick<GenerateDeps, "defaultMaxNewTokens" | "eosEvery" | "family" | "toolCallRate" | "parallelCallRate">,
  constraint?: Constraint,
): GenParams {
  const sp = req.samplingParams;
  return {
    agent: { family: deps.family, toolCallRate: deps.toolCallRate, parallelCallRate: deps.parallelCallRate, constraint },
    seed: seedOf(req),
    maxNewTokens: sp?.maxNewTokens ?? deps.defaultMaxNewTokens,
    minNewTokens: sp?.minNewTokens ?? 0,
    eosEvery: deps.eosEvery,
    ignoreEos: sp?.ignoreEos ?? false,
    stopTokenIds: sp?.stopTokenIds ?? [],
    stop: sp?.stop ?? [],
    noStopTrim: sp?.noStopTrim ?? false,
  };
}

export function handleGenerate(deps: GenerateDeps, call: grpc.ServerWritableStream<GenerateRequest, GenerateResponse>): void {
  const { engine, faults, events } = deps;
  const req = call.request;
  const rid = req.requestId;
  const prompt = req.tokenized?.inputIds ?? [];
  let closed = false;
  const fail = (code: grpc.status, details: string) => {
    if (closed) return;
    closed = true;
    deps.openCalls.delete(call);
    call.emit("error", statusError(code, details));
  };

  if (!prompt.length) return fail(grpc.status.INVALID_ARGUMENT, "tokenized.input_ids is required and must be non-empty");
  if (prompt.length >= engine.contextLimit) {
    return fail(
      grpc.status.INVALID_ARGUMENT,
      `The input (${prompt.length} tokens) is longer than the model's context length (${engine.contextLimit} tokens).`,
    );
  }
  if (faults.takeBeforeFirstToken()) return fail(grpc.status.UNAVAILABLE, "injected fault: worker unavailable before first token");

  const n = Math.max(1, req.samplingParams?.n ?? 1);
  const childIds = n > 1 ? Array.from({ length: n }, (_, k) => `${rid}-n${k}`) : [rid];
  const dup = childIds.find((id) => engine.has(id));
  if (dup !== undefined) return fail(grpc.status.INVALID_ARGUMENT, `Duplicate request ID: ${dup}`);

  let constraint: Constraint | undefined;
  try {
    constraint = compileConstraint(req.samplingParams?.constraint);
  } catch (e) {
    // Like the engine's grammar backend rejecting the request (a 400-class error).
    if (e instanceof ConstraintError) return fail(grpc.status.INVALID_ARGUMENT, e.message);
    throw e;
  }

  const failAfter = faults.takeMidStream();
  const base = toGenParams(req, deps, constraint);
  const topK = Math.max(0, req.topLogprobsNum);
  /** OutputLogProbs for `ids` at output positions start.. (absent unless return_logprob). */
  const logprobs = (seq: Seq, start: number, ids: number[]) =>
    req.returnLogprob ? { outputLogprobs: outputLogprobs(seq.gen.baseHash, start, ids, topK) } : {};
  const stream = req.stream;
  const seqs: Seq[] = [];
  const completes: (GenerateComplete | undefined)[] = new Array(n).fill(undefined);
  let finished = 0;
  let emittedTokens = 0;
  deps.openCalls.add(call);

  const write = (response: MessageInitShape<typeof GenerateResponseSchema>["response"]) => {
    call.write(create(GenerateResponseSchema, { requestId: rid, response }));
  };

  const removeAll = () => {
    let any = false;
    for (const s of seqs) any = engine.remove(s) || any;
    return any;
  };

  const onTokens = (index: number, seq: Seq, ids: number[]) => {
    if (closed) return;
    if (failAfter !== undefined && emittedTokens + ids.length > failAfter) {
      // Send what fits under the limit, then break the stream like an engine crash would.
      const keep = ids.slice(0, Math.max(0, failAfter - emittedTokens));
      if (stream && keep.length) {
        write({
          case: "chunk",
          value: {
            tokenIds: keep,
            ...logprobs(seq, seq.gen.output.length - ids.length, keep),
            promptTokens: prompt.length,
            completionTokens: seq.gen.output.length - ids.length + keep.length,
            cachedTokens: seq.cachedTokens,
            index,
          },
        });
      }
      removeAll();
      return fail(grpc.status.INTERNAL, `injected fault: engine failed after ${failAfter} tokens`);
    }
    emittedTokens += ids.length;
    const fin = seq.gen.finish;
    const common = { promptTokens: prompt.length, completionTokens: seq.gen.output.length, cachedTokens: seq.cachedTokens, index };
    const matchedStop: GenerateComplete["matchedStop"] =
      fin?.matchedTokenId !== undefined
        ? { case: "matchedTokenId", value: fin.matchedTokenId }
        : fin?.matchedStopStr !== undefined
          ? { case: "matchedStopStr", value: fin.matchedStopStr }
          : { case: undefined };
    if (stream) {
      const delta = fin && seq.gen.trimsLast ? ids.slice(0, -1) : ids;
      const lp = logprobs(seq, seq.gen.output.length - ids.length, delta);
      write({ case: "chunk", value: { tokenIds: delta, ...lp, ...common } });
      if (fin) write({ case: "complete", value: { outputIds: delta, finishReason: fin.reason, matchedStop, ...lp, ...common } });
    } else if (fin) {
      const all = seq.gen.visibleOutput();
      completes[index] = create(GenerateCompleteSchema, {
        outputIds: all,
        ...logprobs(seq, 0, all),
        finishReason: fin.reason,
        matchedStop,
        ...common,
      });
    }
    if (fin && ++finished === n) {
      if (!stream) for (const c of completes) write({ case: "complete", value: c! });
      closed = true;
      deps.openCalls.delete(call);
      call.end();
      events.emit("finish", rid);
    }
  };

  call.on("cancelled", () => {
    if (closed) return;
    closed = true;
    deps.openCalls.delete(call);
    removeAll();
    events.emit("cancel", rid, nowEpochMs());
  });

  events.emit("start", rid);
  childIds.forEach((id, k) => {
    // Each choice samples differently: child k uses seed + k (child 0 = the n=1 stream).
    const params: GenParams = { ...base, seed: (base.seed ?? 0) + k };
    seqs.push(engine.submit(id, prompt, params, { onTokens: (seq, ids) => onTokens(k, seq, ids) }));
  });
}
