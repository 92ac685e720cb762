// Pool manager entry: startPool() for tests and embedding; run directly
// (`npx tsx pool/main.ts`) it reads the environment and serves until SIGTERM/SIGINT.
import type { EventEmitter } from "node:events";
import { pathToFileURL } from "node:url";
import { connectRedis } from "../contract/node/redis-connect.js";
import { shardSubscriber } from "../contract/node/shard-subscriber.js";
import pino, { type Logger } from "pino";
import type { PoolInfo } from "../contract/queue/messages.js";
import { parseConfig, type PoolConfig, type PoolConfigInput } from "./config.js";
import { parsePoolEnv } from "./env.js";
import { Closer } from "./closer.js";
import { Dispatcher, type DispatcherStats } from "./queue/dispatcher.js";
import { beat, unregister } from "./queue/heartbeat.js";
import { QueueClient } from "./queue/client.js";
import { fetchTokenizer } from "./tokenizer/fetch.js";
import type { ModelTokenizer } from "./tokenizer/model-tokenizer.js";
import { defaultTokenizerThreads, PromptThreads } from "./tokenizer/prompt-threads.js";
import { profileOf, type ModelProfile } from "./run/model-profile.js";
import { WorkerRegistry } from "./workers/registry.js";
import { PoolTelemetry } from "./telemetry/telemetry.js";
import { WorkerLoads } from "./telemetry/status/loads.js";
import { buildSnapshot } from "./telemetry/status/snapshot.js";
import { startStatusServer, type StatusServer } from "./telemetry/status/http.js";
import type { Router } from "./routing/router.js";
import { WorkerDiscovery } from "./workers/discovery.js";
import { DnsDiscovery } from "./workers/dns-discovery.js";
import { createRouter, DEFAULT_ROUTING } from "./routing/policies.js";

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
  /** The workers, their breakers and the router (tests, admin). */
  registry: WorkerRegistry;
  /** Drain a worker in this pool only (no new work; open streams finish). Cluster-wide: setWorkerDraining(). */
  drain(address: string, on?: boolean): boolean;
  /** Metrics, recent errors, tokens/s (also when no HTTP port is served). */
  telemetry: PoolTelemetry;
  /** Tokenization threads per model (tests: crash one, read the segment cache hit rate). */
  tokenizerThreads: Map<string, PromptThreads>;
  /** The bound internal HTTP port (/metrics, /status), when config.httpPort is set. */
  httpPort?: number;
  /** e.g. http://127.0.0.1:9464 */
  httpUrl?: string;
}

export interface StartOptions {
  /** Worker selection policy (default: config.routingPolicy). */
  router?: Router;
  /** Base logger (default: pino to stdout at config.logLevel); tests pass one to capture lines. */
  logger?: Logger;
}

export async function startPool(input: PoolConfigInput | PoolConfig, opts: StartOptions = {}): Promise<PoolHandle> {
  const cfg = parseConfig(input);
  const log = (opts.logger ?? pino({ name: "pool", level: cfg.logLevel })).child({ pool: cfg.poolId });
  const router = opts.router ?? createRouter({ ...DEFAULT_ROUTING, ...cfg.routing, policy: cfg.routingPolicy });
  const registry = new WorkerRegistry(cfg.workers, router, log, cfg.model, {
    breaker: cfg.breaker,
    hung: cfg.hung,
    loadsIntervalMs: cfg.loadsIntervalMs,
    pollLoads: cfg.httpPort !== undefined, // the metrics and the status page show them
  });
  // Everything opened from here on is closed through this one stack (pool/closer.ts).
  const closer = new Closer();
  closer.add("workers", () => registry.stop());
  // Workers registered in Redis at run time (workers/discovery.ts); its own connection.
  const target = { url: cfg.redisUrl, clusterNodes: cfg.redisClusterNodes, password: cfg.redisPassword };
  const discoRedis = cfg.workerDiscoveryMs > 0 ? connectRedis(target, { maxRetriesPerRequest: 3 }) : undefined;
  discoRedis?.on("error", (e) => log.error({ err: e.message }, "redis (worker discovery)"));
  const discovery = discoRedis ? new WorkerDiscovery(discoRedis, registry, log) : undefined;
  if (discoRedis && discovery) {
    closer.add("worker discovery redis", () => discoRedis.disconnect());
    closer.add("worker discovery", () => discovery.stop());
  }
  // Workers as the A/AAAA records of a name (a Kubernetes headless Service).
  const dns = cfg.workersDns ? new DnsDiscovery(registry, log, { target: cfg.workersDns }) : undefined;
  if (dns) closer.add("worker dns discovery", () => dns.stop());

  // Learn what the workers serve; a worker that is down now joins later via the health loop.
  const deadline = Date.now() + cfg.startupTimeoutMs;
  for (;;) {
    await discovery?.scan();
    await dns?.tick();
    await registry.refresh();
    if (registry.workers.length > 0 && registry.workers.every((w) => w.model !== undefined)) break;
    if (Date.now() > deadline) {
      if (registry.models().length > 0) break;
      await closer.close();
      throw new Error(`no worker answered GetModelInfo within ${cfg.startupTimeoutMs} ms: ${cfg.workers.join(", ") || "(none configured or registered)"}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const models = cfg.model ? [cfg.model] : registry.models();

  const tokenizers = new Map<string, ModelTokenizer>();
  const profiles = new Map<string, ModelProfile>();
  for (const model of models) {
    const errors: string[] = [];
    for (const w of registry.workers.filter((x) => x.model === model)) {
      const t = await fetchTokenizer(w.client, w.eosTokenIds);
      const info = await w.client.getModelInfo();
      if (t.ok && info.ok) {
        tokenizers.set(model, t.value);
        profiles.set(model, profileOf(info.value, cfg.toolParsers[model]));
        break;
      }
      errors.push(t.ok ? `GetModelInfo from ${w.address}: ${info.ok ? "" : info.error.message}` : t.error);
    }
    if (!tokenizers.has(model)) {
      await closer.close();
      throw new Error(`cannot load the tokenizer of ${model}:\n  ${errors.join("\n  ")}`);
    }
  }
  // Tokenization threads per model: large prompts are rendered and encoded off the event loop.
  const threadCount = cfg.tokenizerThreads ?? defaultTokenizerThreads();
  const threads = new Map<string, PromptThreads>();
  if (threadCount > 0) {
    for (const [m, t] of tokenizers) threads.set(m, PromptThreads.create(t.files, t.extraEosIds, t.boundsData, threadCount, log));
    closer.add("tokenization threads", () => Promise.all([...threads.values()].map((t) => t.close())).then(() => {}));
    try {
      await Promise.all([...threads.values()].map((t) => t.ready()));
    } catch (e) {
      await closer.close();
      throw new Error(`cannot start the tokenization threads: ${(e as Error).message}`);
    }
  }
  const renderers = new Map([...threads].map(([m, t]) => [m, t.prepare.bind(t)] as const));
  registry.start(cfg.healthIntervalMs);
  discovery?.start(cfg.workerDiscoveryMs);
  dns?.start(cfg.workersDnsIntervalMs);

  // Commands share one connection (auto-pipelined: concurrent requests' writes go out
  // together); pub/sub needs a dedicated one (on a cluster: one per master, resubscribed
  // on the new master after a failover).
  // The append batcher already sends one turn's appends as one append-many call: wrapping
  // that one command in an auto-pipeline too only added a Pipeline and its promises per turn.
  const redis = connectRedis(target, { enableAutoPipelining: true, autoPipeliningIgnoredCommands: ["sg_appendMany"], maxRetriesPerRequest: 3 });
  let onSubError = (_e: Error) => {};
  const sub = shardSubscriber(redis, (e) => onSubError(e));
  closer.add(
    "redis",
    async () => void (await Promise.all([redis.quit().catch(() => {}), Promise.resolve(sub.close())])),
    () => {
      redis.disconnect();
      sub.close();
    },
  );
  const loads = new WorkerLoads(() => registry.workers, cfg.loadsIntervalMs);
  const telemetry = new PoolTelemetry({ registry, redis, models: () => models, log, tenantLabels: cfg.metricsTenantLabels, loads });
  redis.on("error", (e) => {
    telemetry.redisError("connection", e.message);
    log.error({ err: e.message }, "redis");
  });
  onSubError = (e) => {
    telemetry.redisError("subscriber", e.message);
    log.error({ err: e.message }, "redis (subscriber)");
  };
  const queue = new QueueClient(redis, cfg.poolId, cfg.leaseMs, telemetry);
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
      profile: (m) => profiles.get(m),
      renderer: (m) => renderers.get(m),
      maxAttempts: cfg.maxAttempts,
      minWriteIntervalMs: cfg.coalesce.minWriteIntervalMs,
      log,
      observer: telemetry,
    },
    log,
  );

  const startedAt = Date.now();
  const info = (): PoolInfo => ({
    pool_id: cfg.poolId,
    models,
    workers: registry.workers.map((w) => ({ address: w.address, state: w.state })),
    started_at: startedAt,
    model_limits: Object.fromEntries(
      [...profiles].flatMap(([m, p]) =>
        // The edge refuses a prompt whose token lower bound (bounds) exceeds the context before queueing it.
        p.contextLength === undefined ? [] : [[m, { context_length: p.contextLength, max_token_bytes: tokenizers.get(m)?.maxTokenBytes, bounds: tokenizers.get(m)?.boundsData }]],
      ),
    ),
  });
  const heartbeat = async () => {
    const e = await beat(redis, info(), cfg.heartbeatMs);
    if (e) log.error({ error: e }, "heartbeat failed");
  };
  await heartbeat();
  const hb = setInterval(() => void heartbeat(), cfg.heartbeatMs);
  closer.add(
    "heartbeat",
    async () => {
      clearInterval(hb);
      await unregister(redis, cfg.poolId);
    },
    () => clearInterval(hb),
  );
  telemetry.attach(dispatcher.events);
  await dispatcher.start();
  let http: StatusServer | undefined;
  if (cfg.httpPort !== undefined) {
    try {
      http = await startStatusServer({
        port: cfg.httpPort,
        host: cfg.httpHost,
        registry: telemetry.metrics.registry,
        adminToken: cfg.adminToken,
        snapshot: () => buildSnapshot({ poolId: cfg.poolId, models, startedAt, telemetry, loads }),
      });
    } catch (e) {
      dispatcher.kill();
      closer.kill();
      throw new Error(`cannot serve the pool's HTTP port ${cfg.httpPort} (POOL_HTTP_PORT): ${(e as Error).message}`);
    }
  }
  if (http) {
    const server = http;
    closer.add("http", () => server.close(), () => void server.close());
  }
  // Last in, first out: a graceful stop first lets the in-flight requests finish.
  closer.add("dispatcher", () => dispatcher.stop(), () => dispatcher.kill());
  log.info({ models, workers: cfg.workers, http: http?.url ?? null }, "pool started");

  let stopped = false;
  return {
    poolId: cfg.poolId,
    models,
    stats: () => ({ ...dispatcher.stats, inFlight: dispatcher.held.size }),
    events: dispatcher.events,
    telemetry,
    registry,
    drain: (address, on = true) => registry.drain(address, on),
    tokenizerThreads: threads,
    httpPort: http?.port,
    httpUrl: http?.url,
    async stop() {
      if (stopped) return;
      stopped = true;
      await closer.close((name, e) => log.error({ err: (e as Error)?.message, what: name }, "error while stopping"));
      log.info("pool stopped");
    },
    kill() {
      if (stopped) return;
      stopped = true;
      // A crashed process writes nothing more: cut Redis before anything else.
      redis.disconnect();
      sub.close();
      closer.kill();
    },
  };
}

async function main(): Promise<void> {
  let cfg: PoolConfig;
  try {
    cfg = parsePoolEnv(process.env);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  const pool = await startPool(cfg);
  // One JSON line on stdout when serving: scripts/stack.ts waits for it.
  console.log(JSON.stringify({ ready: true, poolId: pool.poolId, models: pool.models, http: pool.httpUrl }));
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
