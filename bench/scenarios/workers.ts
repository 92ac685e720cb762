// Scenario "workers": the same streamed load (C concurrent streams × T tokens)
// through the edge as a Cloudflare Worker (local workerd via `wrangler dev`)
// and through the Node edge, in one run, against the same Redis, pool and
// simulated workers. Sides run A-B-B-A (rounds=2) after a warm-up of both, so
// neither profits from running second. Also samples Redis's connected_clients:
// the Worker holds one connection per open stream (a workerd rule), the Node
// edge a fixed two.
//
// Wiring into bench/run.ts: after startStack + seedApiKey,
//   const r = await runWorkersComparison({ redisUrl: stack.redisUrl, nodeBaseUrl: stack.baseUrl, apiKey, model, concurrency, tokens });
//   data.workers = r.rows; tables.push(r.table);
// Standalone: `npx tsx bench/scenarios/workers.ts [--concurrency 32 --tokens 128 --workers 2 --decode-ms 6]`
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { seedApiKey } from "../../edge/tenants.js";
import { startWranglerDev, type WranglerDev } from "../../scripts/dev-worker.js";
import { freePort, startStack } from "../../scripts/stack.js";
import type { Table } from "../lib/report.js";
import { cpuSpent, cpuSplit, descendantNamed, per1k, type CpuPer1k } from "../lib/proc.js";
import { runConcurrent, summarizeStreams, timeSseStream, type StreamSample, type StreamSummary } from "../lib/stream-load.js";

export interface WorkersParams {
  /** the stack's Redis (the Worker is started against it) */
  redisUrl: string;
  /** the Node edge of the same stack */
  nodeBaseUrl: string;
  apiKey: string;
  model: string;
  concurrency: number;
  tokens: number;
  /** requests per side and round; default = concurrency (one wave) */
  requests?: number;
  /** 2 = A-B-B-A (default), 1 = Node then Worker */
  rounds?: number;
  /** an already running Worker; default: start `wrangler dev` for the run and stop it after */
  workerBaseUrl?: string;
  /** extra vars for the Worker (e.g. { EDGE_QUOTAS: "off" }) */
  workerVars?: Record<string, string>;
  onLine?: (line: string) => void;
  /** the shared pool and Redis, and the Node edge, for each side's gateway CPU per 1k tokens */
  pids?: { nodeEdge?: number; pool?: number; redis?: number };
  /** progress: called after each finished stream */
  onProgress?: (side: string, done: number, total: number) => void;
}

export type WorkersRow = StreamSummary & {
  label: string;
  redis_clients_peak: number;
  /** the side's edge (the Node process, or workerd), the pool and Redis, while that side ran */
  gateway_cpu_ms_per_1k_tokens?: CpuPer1k;
};

/** Peak of Redis's connected_clients while `fn` runs (sampled every 20 ms on its own connection). */
async function withClientPeak<T>(redisUrl: string, fn: () => Promise<T>): Promise<{ value: T; peak: number }> {
  const probe = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  let peak = 0;
  let running = true;
  const sample = async () => {
    const info = await probe.info("clients");
    const n = Number(/connected_clients:(\d+)/.exec(info)?.[1] ?? 0);
    peak = Math.max(peak, n);
  };
  const loop = (async () => {
    while (running) {
      await sample().catch(() => {});
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    const value = await fn();
    return { value, peak };
  } finally {
    running = false;
    await loop;
    probe.disconnect();
  }
}

function aggregate(label: string, samples: StreamSample[], wallMs: number, peak: number, cpuMs: Record<string, number>): WorkersRow {
  const summary = summarizeStreams(samples, wallMs);
  const cpu = per1k(cpuMs, summary.tokens);
  return { label, ...summary, redis_clients_peak: peak, ...(cpu ? { gateway_cpu_ms_per_1k_tokens: cpu } : {}) };
}

export async function runWorkersComparison(p: WorkersParams): Promise<{ rows: WorkersRow[]; table: Table }> {
  const requests = p.requests ?? p.concurrency;
  const rounds = p.rounds ?? 2;
  let dev: WranglerDev | undefined;
  const workerBaseUrl =
    p.workerBaseUrl ??
    (dev = await startWranglerDev({ vars: { REDIS_URL: p.redisUrl, ...p.workerVars }, onLine: p.onLine })).url;
  try {
    const sides = { node: p.nodeBaseUrl, worker: workerBaseUrl } as const;
    const label = { node: "Node edge (@hono/node-server)", worker: "Workers build (wrangler dev, workerd)" } as const;
    const body = (i: number, tokens: number, tag: string) => ({
      model: p.model,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: tokens,
      temperature: 0,
      messages: [{ role: "user", content: `Write a long story about a lighthouse keeper. (${tag} #${i})` }],
    });
    // workerd alone, not wrangler's Node process around it (local tooling with no production counterpart)
    const edgePid = { node: p.pids?.nodeEdge, worker: descendantNamed(dev?.child.pid, "workerd") };
    const wave = async (side: keyof typeof sides, n: number, tokens: number, tag: string) => {
      let done = 0;
      const spent = cpuSpent({ edge: edgePid[side], pool: p.pids?.pool, redis: p.pids?.redis });
      const t0 = performance.now();
      const { value: samples, peak } = await withClientPeak(p.redisUrl, () =>
        runConcurrent(
          n,
          p.concurrency,
          (i) => timeSseStream(`${sides[side]}/v1/chat/completions`, p.apiKey, body(i, tokens, tag)),
          () => p.onProgress?.(side, ++done, n),
        ),
      );
      return { samples, wallMs: performance.now() - t0, peak, cpuMs: spent() };
    };

    // Warm-up: isolate start, JIT, model cache, connections, KV caches of both paths.
    for (const side of ["node", "worker"] as const) {
      const w = await wave(side, Math.min(8, p.concurrency), 8, `warm-${side}`);
      const bad = w.samples.find((s) => s.error);
      if (bad) throw new Error(`${label[side]} failed during warm-up: ${bad.error}`);
    }

    const order: (keyof typeof sides)[] = [];
    for (let r = 0; r < rounds; r++) order.push(...(r % 2 === 0 ? (["node", "worker"] as const) : (["worker", "node"] as const)));
    const fresh = () => ({ samples: [] as StreamSample[], wallMs: 0, peak: 0, cpuMs: {} as Record<string, number> });
    const acc = { node: fresh(), worker: fresh() };
    for (const [k, side] of order.entries()) {
      const w = await wave(side, requests, p.tokens, `run${k}-${side}`);
      acc[side].samples.push(...w.samples);
      acc[side].wallMs += w.wallMs;
      acc[side].peak = Math.max(acc[side].peak, w.peak);
      for (const [role, ms] of Object.entries(w.cpuMs)) acc[side].cpuMs[role] = (acc[side].cpuMs[role] ?? 0) + ms;
    }
    const rows = (["node", "worker"] as const).map((s) => aggregate(label[s], acc[s].samples, acc[s].wallMs, acc[s].peak, acc[s].cpuMs));
    const table: Table = {
      title: `Workers vs Node edge: ${p.concurrency} concurrent streams × ${p.tokens} tokens (${rounds} round${rounds > 1 ? "s" : ""}, same stack)`,
      columns: ["edge", "TTFT p50 ms", "TTFT p99 ms", "ITL p50 ms", "ITL p99 ms", "tokens/s", "errors", "Redis clients (peak)", "gateway CPU ms / 1k tokens (edge + pool + redis)"],
      rows: rows.map((r) => [r.label, r.ttft_p50_ms, r.ttft_p99_ms, r.itl_p50_ms, r.itl_p99_ms, r.tokens_per_s, r.errors, r.redis_clients_peak, cpuSplit(r.gateway_cpu_ms_per_1k_tokens)]),
      notes: [
        "Both edges enqueue into the same Redis and share the pool and simulated workers; sides ran " + order.join(", ") + ".",
        "The Worker holds one Redis connection per open stream (workerd cannot share sockets across requests); the Node edge multiplexes.",
        "The Worker's edge CPU is workerd's alone: wrangler dev's own Node process (local tooling with no production counterpart) is left out.",
      ],
    };
    return { rows, table };
  } finally {
    await dev?.stop();
  }
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      concurrency: { type: "string", default: "32" },
      tokens: { type: "string", default: "128" },
      workers: { type: "string", default: "2" },
      "decode-ms": { type: "string", default: "6" },
      rounds: { type: "string", default: "2" },
    },
  });
  const log = (name: string, line: string) => process.env.BENCH_VERBOSE && console.error(`[${name}] ${line}`);
  const stack = await startStack({
    simWorkers: Number(args.workers),
    edgePort: await freePort(),
    simArgs: ["--decode-ms-per-token", String(args["decode-ms"])],
    onLine: log,
  });
  try {
    const apiKey = `sk-bench-${randomBytes(12).toString("hex")}`;
    const redis = new Redis(stack.redisUrl);
    await seedApiKey(redis, { tenantId: "bench", tenantName: "Benchmark", key: apiKey });
    redis.disconnect();
    const { rows, table } = await runWorkersComparison({
      redisUrl: stack.redisUrl,
      nodeBaseUrl: stack.baseUrl,
      apiKey,
      model: "qwen3-sim",
      concurrency: Number(args.concurrency),
      tokens: Number(args.tokens),
      rounds: Number(args.rounds),
      pids: { nodeEdge: stack.edge.pid, pool: stack.pool.pid, redis: stack.redisPid },
      onLine: (line) => log("worker", line),
    });
    const { toMarkdown } = await import("../lib/report.js");
    console.log(toMarkdown([table]));
    console.log(JSON.stringify(rows, null, 2));
  } finally {
    await stack.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
