// Builders for the informational RPCs: GetModelInfo, GetServerInfo, GetLoads.
// Values mirror a Qwen3 deployment so a gateway labels the sim like a real worker;
// model_type/architectures follow the simulated family (qwen3 or kimi_k2).
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  GetLoadsResponseSchema,
  GetModelInfoResponseSchema,
  GetServerInfoResponseSchema,
} from "../contract/grpc/tokenspeed/tokenspeed_scheduler_pb.js";
import { familyLabels, type Family } from "./agent/family.js";
import type { Engine } from "./engine.js";
import type { SimTokenizer } from "./tokenizer.js";

export interface InfoContext {
  model: string;
  family: Family;
  engine: Engine;
  tok: SimTokenizer;
  host: string;
  port: number;
  /** Date.now() at startup. */
  startedAt: number;
  /** Extra options echoed in server_args (timing knobs etc.). */
  simArgs: Record<string, number | string | boolean>;
}

export function modelInfo(ctx: InfoContext): MessageInitShape<typeof GetModelInfoResponseSchema> {
  const ctxLen = ctx.engine.opts.maxContextLength;
  return {
    modelPath: ctx.model,
    tokenizerPath: ctx.tok.dir,
    servedModelName: ctx.model,
    ...familyLabels(ctx.family),
    maxContextLength: ctxLen,
    maxReqInputLen: Math.min(ctxLen, ctx.engine.cache.capacityTokens) - 1,
    vocabSize: ctx.tok.vocabSize,
    eosTokenIds: ctx.tok.eosTokenIds,
    padTokenId: ctx.tok.endOfTextId,
    bosTokenId: ctx.tok.endOfTextId,
    weightVersion: "",
    defaultSamplingParamsJson: "",
    supportsVision: false,
    supportsMultimodal: false,
    modelDtype: "bfloat16",
    multimodalEncoderDtype: "bfloat16",
  };
}

export function serverInfo(ctx: InfoContext): MessageInitShape<typeof GetServerInfoResponseSchema> {
  const o = ctx.engine.opts;
  const maxTotal = ctx.engine.cache.capacityTokens;
  return {
    serverArgs: {
      model: ctx.model,
      served_model_name: ctx.model,
      tokenizer: ctx.tok.dir,
      host: ctx.host,
      port: ctx.port,
      tp_size: 1,
      dp_size: 1,
      pp_size: 1,
      context_length: o.maxContextLength,
      max_total_tokens: maxTotal,
      max_running_requests: o.maxRunning,
      chunked_prefill_size: o.prefillChunk,
      page_size: o.blockSize,
      load_balance_method: "round_robin",
      is_embedding: false,
      vocab_size: ctx.tok.vocabSize,
      weight_version: "",
      ...ctx.simArgs,
    },
    schedulerInfo: { max_total_num_tokens: maxTotal, max_req_input_len: maxTotal - 1, shm_namespace_id: "" },
    activeRequests: ctx.engine.inFlight,
    isPaused: false,
    uptimeSeconds: (Date.now() - ctx.startedAt) / 1000,
    maxTotalNumTokens: maxTotal,
    tokenspeedVersion: "sim",
    startTime: { seconds: BigInt(Math.floor(ctx.startedAt / 1000)), nanos: 0 },
  };
}

/** One SchedulerLoad for dp_rank 0 with real numbers (the real servicer leaves most of them 0). */
export function loads(ctx: InfoContext, dpRank: number | undefined): MessageInitShape<typeof GetLoadsResponseSchema> {
  const s = ctx.engine.stats();
  const o = ctx.engine.opts;
  const rank = {
    dpRank: 0,
    numRunningReqs: s.running,
    numWaitingReqs: s.waiting,
    numTotalReqs: s.running + s.waiting,
    numWaitingUncachedTokens: s.waitingUncachedTokens,
    numUsedTokens: s.usedTokens,
    maxTotalNumTokens: s.maxTotalTokens,
    maxRunningRequests: o.maxRunning,
    tokenUsage: s.tokenUsage,
    genThroughput: s.genThroughput,
    cacheHitRate: s.cacheHitRate,
    utilization: s.running / o.maxRunning,
    memory: { weightGb: 16.4, kvCacheGb: (s.maxTotalTokens * 144 * 1024) / 2 ** 30, graphGb: 0.5, tokenCapacity: s.maxTotalTokens },
    queues: { waiting: s.waiting, grammar: 0, paused: 0, retracted: 0 },
  };
  const list = dpRank === undefined || dpRank === 0 ? [rank] : [];
  return {
    timestamp: new Date().toISOString(),
    version: "tokenspeed",
    dpRankCount: list.length,
    loads: list,
    aggregate: {
      totalRunningReqs: list.reduce((a, l) => a + l.numRunningReqs, 0),
      totalWaitingReqs: list.reduce((a, l) => a + l.numWaitingReqs, 0),
      totalReqs: list.reduce((a, l) => a + l.numTotalReqs, 0),
      avgTokenUsage: list.length ? list.reduce((a, l) => a + l.tokenUsage, 0) / list.length : 0,
      avgThroughput: list.length ? list.reduce((a, l) => a + l.genThroughput, 0) / list.length : 0,
      avgUtilization: list.length ? list.reduce((a, l) => a + l.utilization, 0) / list.length : 0,
    },
  };
}
