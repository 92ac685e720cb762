// The simulated TokenSpeed worker: a grpc-js server speaking
// tokenspeed.grpc.scheduler.TokenSpeedScheduler (all 11 RPCs) and
// grpc.health.v1.Health over one simulated engine (engine.ts).
// One call of startSimWorker = one engine on one port; main.ts can start many.
import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  GetTokenizerChunkSchema,
  type KvEventBatch,
  type SubscribeKvEventsRequest,
} from "../contract/grpc/tokenspeed/common_pb.js";
import {
  AbortResponseSchema,
  HealthCheckResponseSchema,
  TokenSpeedScheduler,
  type GenerateRequest,
  type GenerateResponse,
} from "../contract/grpc/tokenspeed/tokenspeed_scheduler_pb.js";
import { addService } from "../pool/workers/grpc-bridge.js";
import { DEFAULT_ENGINE_OPTIONS, Engine, type EngineOptions, type Seq } from "./engine.js";
import { SimFaults } from "./faults.js";
import { handleGenerate, statusError } from "./generate.js";
import { addHealthService, SCHEDULER_SERVICE, ServingStatus } from "./health.js";
import { loads, modelInfo, serverInfo, type InfoContext } from "./info.js";
import { handleSubscribeKvEvents } from "./kv-events.js";
import { textModelFor } from "./text-model.js";
import type { SimOptions, SimWorker } from "./types.js";
import { tokenizerBundle, tokenizerChunks } from "./tokenizer-bundle.js";
import { defaultTokenizerDir, loadSimTokenizer } from "./tokenizer.js";

export type { SimOptions, SimStats, SimWorker } from "./types.js";

type GenCall = grpc.ServerWritableStream<GenerateRequest, GenerateResponse>;
type KvCall = grpc.ServerWritableStream<SubscribeKvEventsRequest, KvEventBatch>;

/** Server options of the real servicer (wire doc §4.2). grpc-js ignores the ping-policy keys it does not implement (it accepts pings freely). */
export const SIM_SERVER_OPTIONS: grpc.ServerOptions = {
  "grpc.max_send_message_length": 256 * 1024 * 1024,
  "grpc.max_receive_message_length": 256 * 1024 * 1024,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.http2.min_recv_ping_interval_without_data_ms": 10_000,
  "grpc.http2.min_ping_interval_without_data_ms": 10_000,
  "grpc.http2.max_pings_without_data": 0,
  "grpc.http2.max_ping_strikes": 0,
};

function bindAsync(server: grpc.Server, addr: string): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

export async function startSimWorker(opts: SimOptions = {}): Promise<SimWorker> {
  const host = opts.host ?? "127.0.0.1";
  const model = opts.model ?? "qwen3-sim";
  const engineOpts: EngineOptions = {
    prefillTokensPerS: opts.prefillTokensPerS ?? DEFAULT_ENGINE_OPTIONS.prefillTokensPerS,
    decodeMsPerToken: opts.decodeMsPerToken ?? DEFAULT_ENGINE_OPTIONS.decodeMsPerToken,
    decodeMsPerRunning: opts.decodeMsPerRunning ?? DEFAULT_ENGINE_OPTIONS.decodeMsPerRunning,
    maxRunning: opts.maxRunning ?? DEFAULT_ENGINE_OPTIONS.maxRunning,
    kvCapacityTokens: opts.kvCapacityTokens ?? DEFAULT_ENGINE_OPTIONS.kvCapacityTokens,
    blockSize: opts.blockSize ?? DEFAULT_ENGINE_OPTIONS.blockSize,
    prefillChunk: opts.prefillChunk ?? DEFAULT_ENGINE_OPTIONS.prefillChunk,
    maxContextLength: opts.maxContextLength ?? DEFAULT_ENGINE_OPTIONS.maxContextLength,
  };
  const tokenizerDir = opts.tokenizerDir ?? defaultTokenizerDir();
  const tok = loadSimTokenizer(tokenizerDir);
  const textModel = textModelFor(tok);
  const engine = new Engine(textModel, engineOpts);
  engine.setMaxListeners(0);
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const healthTimeoutMs = opts.healthCheckTimeoutMs ?? 20_000;
  const openCalls = new Set<GenCall>();
  let getLoadsCalls = 0;
  const kvSubscribers = new Set<KvCall>();
  const pendingProbes = new Set<(healthy: boolean, message: string) => void>();
  const server = new grpc.Server(SIM_SERVER_OPTIONS);
  let stopping = false;
  let dead = false;

  const kill = () => {
    if (dead) return;
    dead = stopping = true;
    for (const p of [...pendingProbes]) p(false, "Server is shutting down");
    engine.stop();
    server.forceShutdown();
  };
  const faults = new SimFaults({
    crash: () => (opts.onCrash ?? kill)(),
    setHung: (on) => engine.setHung(on),
    setSlowdown: (f) => {
      engine.slowdown = f;
    },
  });

  const deps = {
    engine,
    faults,
    events,
    openCalls,
    defaultMaxNewTokens: opts.defaultMaxNewTokens ?? 128,
    eosEvery: opts.eosEvery ?? 0,
    family: opts.family ?? "qwen3",
    toolCallRate: opts.toolCallRate ?? 0,
    parallelCallRate: opts.parallelCallRate ?? 0,
  };
  let probeCount = 0;
  const info: InfoContext = {
    model,
    family: deps.family,
    engine,
    tok,
    host,
    port: 0,
    startedAt: Date.now(),
    simArgs: {
      sim_prefill_tokens_per_s: engineOpts.prefillTokensPerS,
      sim_decode_ms_per_token: engineOpts.decodeMsPerToken,
      sim_decode_ms_per_running: engineOpts.decodeMsPerRunning,
      sim_eos_every: deps.eosEvery,
      sim_default_max_new_tokens: deps.defaultMaxNewTokens,
      sim_family: deps.family,
      sim_tool_call_rate: deps.toolCallRate,
      sim_parallel_call_rate: deps.parallelCallRate,
      enable_kv_cache_events: opts.kvEvents ?? true,
    },
  };

  addService(server, TokenSpeedScheduler, {
    generate: (call) => handleGenerate(deps, call),

    // Deep probe like the real servicer: a 1-token generation through the engine,
    // so a hung engine makes HealthCheck time out (healthy=false after healthTimeoutMs).
    healthCheck(call, callback) {
      if (stopping) return callback(null, create(HealthCheckResponseSchema, { healthy: false, message: "Server is shutting down" }));
      let seq: Seq | undefined;
      const finish = (healthy: boolean, message: string) => {
        if (!pendingProbes.delete(finish)) return;
        clearTimeout(timer);
        if (seq) engine.remove(seq);
        callback(null, create(HealthCheckResponseSchema, { healthy, message }));
      };
      pendingProbes.add(finish);
      const timer = setTimeout(() => finish(false, `Health check timeout after ${healthTimeoutMs / 1000}s`), healthTimeoutMs);
      call.on("cancelled", () => {
        pendingProbes.delete(finish);
        clearTimeout(timer);
        if (seq) engine.remove(seq);
      });
      seq = engine.submit(`HEALTH_CHECK_${++probeCount}`, [0], { maxNewTokens: 1, ignoreEos: true }, {
        onTokens: (s) => {
          if (s.gen.finish) finish(true, "");
        },
      });
    },

    abort(call, callback) {
      const rid = call.request.requestId;
      const family = engine.findFamily(rid);
      for (const s of family) engine.remove(s);
      if (family.length) events.emit("abort", rid);
      events.emit("abort-call", rid);
      // Like the engine front-end: the open Generate stream is NOT ended; it just gets no more frames.
      callback(
        null,
        create(AbortResponseSchema, {
          success: family.length > 0,
          message: family.length ? `Aborted ${family.length} request(s) for ${rid}` : `Request ${rid} not found`,
        }),
      );
    },

    getModelInfo(_call, callback) {
      callback(null, create(TokenSpeedScheduler.method.getModelInfo.output, modelInfo(info)));
    },

    getServerInfo(_call, callback) {
      callback(null, create(TokenSpeedScheduler.method.getServerInfo.output, serverInfo(info)));
    },

    getLoads(call, callback) {
      getLoadsCalls++;
      callback(null, create(TokenSpeedScheduler.method.getLoads.output, loads(info, call.request.dpRank)));
    },

    flushCache(_call, callback) {
      const inFlight = engine.inFlight;
      const ok = engine.flush();
      callback(
        null,
        create(TokenSpeedScheduler.method.flushCache.output, {
          success: ok,
          message: ok ? "Cache flushed successfully" : `Cannot flush cache: ${inFlight} request(s) in flight`,
        }),
      );
    },

    startProfile(_call, callback) {
      callback(null, create(TokenSpeedScheduler.method.startProfile.output, { success: true, message: "Start profiling." }));
    },

    stopProfile(_call, callback) {
      callback(null, create(TokenSpeedScheduler.method.stopProfile.output, { success: true, message: "Stop profiling." }));
    },

    getTokenizer(call) {
      let bundle;
      try {
        bundle = tokenizerBundle(tokenizerDir);
      } catch (err) {
        call.emit("error", statusError(grpc.status.INTERNAL, `failed to build tokenizer bundle: ${(err as Error).message}`));
        return;
      }
      // ~3 MB in total: grpc-js buffers what the socket cannot take yet.
      for (const chunk of tokenizerChunks(bundle)) {
        if (call.cancelled) return;
        call.write(create(GetTokenizerChunkSchema, chunk));
      }
      call.end();
    },

    subscribeKvEvents: (call) => handleSubscribeKvEvents(engine, opts.kvEvents ?? true, kvSubscribers, call),
  });

  addHealthService(server, (service) => {
    if (service !== "" && service !== SCHEDULER_SERVICE) return undefined;
    if (stopping) return ServingStatus.NOT_SERVING;
    // Like the real servicer: a scheduler with pending work but no output for 30 s is "stuck".
    const stuck = engine.inFlight > 0 && performance.now() - engine.lastProgressAt > 30_000;
    return service === SCHEDULER_SERVICE && stuck ? ServingStatus.NOT_SERVING : ServingStatus.SERVING;
  });

  const port = await bindAsync(server, `${host}:${opts.port ?? 0}`);
  info.port = port;
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;

  const stop = async (graceMs = 5000) => {
    if (dead) return;
    stopping = true;
    for (const p of [...pendingProbes]) p(false, "Server is shutting down");
    // Long-lived KV subscriptions would block a graceful shutdown forever.
    for (const c of [...kvSubscribers]) c.end();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
    dead = true;
    engine.stop();
  };

  return {
    address,
    port,
    model,
    events,
    faults,
    textModel,
    tokenizer: tok,
    stats: () => {
      const s = engine.stats();
      return {
        running: s.running,
        waiting: s.waiting,
        cachedTokens: s.cachedTokens,
        usedTokens: s.usedTokens,
        maxTotalTokens: s.maxTotalTokens,
        tokenUsage: s.tokenUsage,
        waitingUncachedTokens: s.waitingUncachedTokens,
        genThroughput: s.genThroughput,
        cacheHitRate: s.cacheHitRate,
        getLoadsCalls,
        openGenerateCalls: openCalls.size,
        kvSubscribers: kvSubscribers.size,
        kvSequence: s.kvSequence,
        kv: s.kv,
        hung: s.hung,
        slowdown: s.slowdown,
      };
    },
    stop,
    kill,
  };
}
