// Pool manager entry: startPool() for tests and embedding; run directly
// (`npx tsx pool/main.ts`) it reads the environment and serves until SIGTERM/SIGINT.
import type { EventEmitter } from "node:events";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import pino from "pino";
import type { PoolInfo } from "../proto/queue/messages.js";
import { configFromEnv, parseConfig, type PoolConfig, type PoolConfigInput } from "./config.js";
import { Dispatcher, type DispatcherStats } from "./dispatcher.js";
import { beat, unregister } from "./heartbeat.js";
import { QueueClient } from "./queue.js";
import { fetchTokenizer } from "./tokenizer/fetch.js";
import type { ModelTokenizer } from "./tokenizer/model-tokenizer.js";
import { WorkerRegistry } from "./workers/registry.js";
import { LeastInFlightRouter, type Router } from "./workers/router.js";

export interface PoolHandle {
  poolId: string;
  models: string[];
  stats(): DispatcherStats & { inFlight: number };
  /** Emits "settled" (rid) when a request run ends (after its ack). */
  events: EventEmitter;
  /** Graceful: stop claiming, finish in-flight requests, leave the registry. */
  stop(): Promise<void>;
  /** Abrupt, for tests: behaves like a crashed process (no more Redis writes, no ack). */
  kill(): void;
}

export interface StartOptions {
  /** Worker selection policy (default: least in-flight). */
  router?: Router;
}

export async function startPool(input: PoolConfigInput | PoolConfig, opts: StartOptions = {}): Promise<PoolHandle> {
  const cfg = parseConfig(input);
  const log = pino({ name: "pool", level: cfg.logLevel }).child({ pool: cfg.poolId });
  const registry = new WorkerRegistry(cfg.workers, opts.router ?? new LeastInFlightRouter(), log, cfg.model);

  // Learn what the workers serve; a worker that is down now joins later via the health loop.
  const deadline = Date.now() + cfg.startupTimeoutMs;
  for (;;) {
    await registry.refresh();
    if (registry.workers.every((w) => w.model !== undefined)) break;
    if (Date.now() > deadline) {
      if (registry.models().length > 0) break;
      registry.stop();
      throw new Error(`no worker answered GetModelInfo within ${cfg.startupTimeoutMs} ms: ${cfg.workers.join(", ")}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const models = cfg.model ? [cfg.model] : registry.models();

  const tokenizers = new Map<string, ModelTokenizer>();
  for (const model of models) {
    const errors: string[] = [];
    for (const w of registry.workers.filter((x) => x.model === model)) {
      const t = await fetchTokenizer(w.client, w.eosTokenIds);
      if (t.ok) {
        tokenizers.set(model, t.value);
        break;
      }
      errors.push(t.error);
    }
    if (!tokenizers.has(model)) {
      registry.stop();
      throw new Error(`cannot load the tokenizer of ${model}:\n  ${errors.join("\n  ")}`);
    }
  }
  registry.start(cfg.healthIntervalMs);

  // Commands share one connection (auto-pipelined: concurrent requests' writes go out
  // together); pub/sub needs a dedicated one.
  const redis = new Redis(cfg.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 3 });
  const sub = new Redis(cfg.redisUrl, { maxRetriesPerRequest: null });
  redis.on("error", (e) => log.error({ err: e.message }, "redis"));
  sub.on("error", (e) => log.error({ err: e.message }, "redis (subscriber)"));
  const queue = new QueueClient(redis, cfg.poolId, cfg.leaseMs);
  const dispatcher = new Dispatcher(
    cfg,
    models,
    redis,
    sub,
    queue,
    {
      queue,
      registry,
      tokenizer: (m) => tokenizers.get(m),
      maxAttempts: cfg.maxAttempts,
      minWriteIntervalMs: cfg.coalesce.minWriteIntervalMs,
      log,
    },
    log,
  );

  const startedAt = Date.now();
  const info = (): PoolInfo => ({
    pool_id: cfg.poolId,
    models,
    workers: registry.workers.map((w) => ({ address: w.address, state: w.state })),
    started_at: startedAt,
  });
  const heartbeat = async () => {
    const e = await beat(redis, info(), cfg.heartbeatMs);
    if (e) log.error({ error: e }, "heartbeat failed");
  };
  await heartbeat();
  const hb = setInterval(() => void heartbeat(), cfg.heartbeatMs);
  await dispatcher.start();
  log.info({ models, workers: cfg.workers }, "pool started");

  let stopped = false;
  return {
    poolId: cfg.poolId,
    models,
    stats: () => ({ ...dispatcher.stats, inFlight: dispatcher.held.size }),
    events: dispatcher.events,
    async stop() {
      if (stopped) return;
      stopped = true;
      await dispatcher.stop();
      clearInterval(hb);
      await unregister(redis, cfg.poolId);
      registry.stop();
      await Promise.all([redis.quit().catch(() => {}), sub.quit().catch(() => {})]);
      log.info("pool stopped");
    },
    kill() {
      if (stopped) return;
      stopped = true;
      clearInterval(hb);
      redis.disconnect();
      sub.disconnect();
      dispatcher.kill();
      registry.stop();
    },
  };
}

async function main(): Promise<void> {
  let cfg: PoolConfig;
  try {
    cfg = configFromEnv();
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  const pool = await startPool(cfg);
  // One JSON line on stdout when serving: scripts/stack.ts waits for it.
  console.log(JSON.stringify({ ready: true, poolId: pool.poolId, models: pool.models }));
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) process.exit(1); // second signal: do not wait
    closing = true;
    console.error(`${signal}: finishing in-flight requests`);
    pool.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
