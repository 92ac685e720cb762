// `npm run bench [-- --scenario sweep --scenario admission ...]`
// Starts the whole system as separate processes (as `npm run dev` does), runs
// the chosen scenarios with progress bars, and writes bench/results/<name>.json,
// <name>.md and SVG plots. Every scenario measures its baseline in the same run.
//
// Scenarios: sweep (closed loop at each --levels concurrency, full path vs direct
// gRPC), steady (open loop at --rate req/s), admission (auth + quotas on vs off),
// workers (the same streamed load through the Workers build in workerd and the
// Node edge), agentic (multi-turn trace over 4 workers, one row per routing policy),
// oversized (1 MB prompts), cluster (the sweep on one Redis and on a Redis Cluster,
// not in the default set: it starts six more redis-servers and a second gateway).
import { parseArgs } from "node:util";
import { readdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { startStack, freePort } from "../scripts/stack.js";
import { seedApiKey } from "../edge/tenants.js";
import { runLevel, runSteady, warmUp, levelTable, overheadTable, breakdownTable, type PathResult, type Target } from "./scenarios/streams.js";
import { runAdmission } from "./scenarios/admission.js";
import { runWorkersComparison } from "./scenarios/workers.js";
import { runOversized } from "./scenarios/oversized.js";
import { writeResults, toMarkdown, resultsDir, type Table } from "./lib/report.js";
import { lineChart } from "./lib/plot.js";
import { progress } from "./lib/progress.js";
import { startDelayProxy } from "./lib/delay-proxy.js";

const { values: args } = parseArgs({
  options: {
    scenario: { type: "string", multiple: true },
    levels: { type: "string", default: "1,64,256" },
    /** streams per sweep level = max(concurrency, 8) x this, and 3 x this floods per oversized prompt kind (more = steadier figures) */
    rounds: { type: "string", default: "1" },
    tokens: { type: "string", default: "256" },
    rate: { type: "string", default: "20" },
    seconds: { type: "string", default: "10" },
    workers: { type: "string", default: "2" },
    "decode-ms": { type: "string", default: "6" },
    name: { type: "string", default: "latest" },
    /** write V8 CPU profiles of the edge and the pool (whole run) under bench/results/profiles/<name>/ */
    "cpu-prof": { type: "boolean", default: false },
    /** extra Node flags for the pool and the edge, e.g. --node-arg=--max-semi-space-size=32 */
    "node-arg": { type: "string", multiple: true },
    /** streams sent through both paths (32 at a time) before any scenario, not measured: the gateway is measured warm, as it runs in production */
    warmup: { type: "string", default: "256" },
    /** the edge reaches Redis through a proxy adding this round trip (ms), as a Worker far from its Redis would */
    "edge-redis-rtt-ms": { type: "string", default: "0" },
  },
});
const scenarios = args.scenario ?? ["sweep", "steady", "admission", "workers", "agentic", "oversized"];
const tokens = Number(args.tokens);
const edgeRedisRttMs = Number(args["edge-redis-rtt-ms"]);

async function main() {
  const profileDir = join(resultsDir(), "profiles", args.name);
  const nodeArgs = [...(args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), ...(args["node-arg"] ?? [])];
  const stack = await startStack({
    simWorkers: Number(args.workers),
    edgePort: await freePort(),
    simArgs: ["--decode-ms-per-token", String(args["decode-ms"])],
    edgeEnv: { LOG_LEVEL: "warn", EDGE_METRICS_PORT: "0" },
    poolEnv: { LOG_LEVEL: "warn", POOL_HTTP_PORT: "0" },
    nodeArgs,
    onLine: (name, line) => process.env.BENCH_VERBOSE && console.error(`[${name}] ${line}`),
    ...(edgeRedisRttMs > 0 ? { edgeRedisVia: (url: string) => startDelayProxy(url, edgeRedisRttMs / 2) } : {}),
  });
  const apiKey = `sk-bench-${Date.now()}`;
  const redis = new Redis(stack.redisUrl);
  await seedApiKey(redis, { tenantId: "bench", tenantName: "Benchmark", key: apiKey });
  redis.disconnect();
  const target: Target = {
    baseUrl: stack.baseUrl,
    apiKey,
    model: "qwen3-sim",
    workerAddrs: stack.workerAddrs,
    gatewayPids: { edge: stack.edge.pid, pool: stack.pool.pid, redis: stack.redisPid },
    metrics: { edgeMetrics: stack.edgeMetrics, poolHttp: stack.poolHttp },
  };
  const tables: Table[] = [];
  const data: Record<string, unknown> = {
    started_at: new Date().toISOString(),
    args,
    machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
  };
  try {
    if (Number(args.warmup) > 0) await warmUp(target, Number(args.warmup), tokens);
    data.warmup_streams = Number(args.warmup);
    if (scenarios.includes("sweep")) {
      const rows: PathResult[] = [];
      for (const c of args.levels.split(",").map(Number)) rows.push(...(await runLevel(target, c, tokens, Math.max(c, 8) * Number(args.rounds))));
      data.sweep = rows;
      const far = edgeRedisRttMs > 0 ? `, the edge ${edgeRedisRttMs} ms (round trip) from Redis` : "";
      tables.push(levelTable(`Concurrency sweep: streams of ${tokens} tokens, ${args.workers} simulated workers${far}`, rows), overheadTable(rows), breakdownTable(rows));
      const dir = resultsDir();
      const series = (f: (r: PathResult) => number) =>
        rows.map((r) => ({ series: r.path === "direct" ? "direct gRPC (baseline)" : "full path (edge+Redis+pool)", x: r.concurrency, y: f(r) }));
      await lineChart(join(dir, `${args.name}-ttft.svg`), "TTFT p50 vs concurrency", "concurrent streams", "TTFT p50 (ms)", series((r) => r.ttft_p50_ms), true);
      await lineChart(join(dir, `${args.name}-throughput.svg`), "Throughput vs concurrency", "concurrent streams", "output tokens/s", series((r) => r.tokens_per_s), true);
    }
    if (scenarios.includes("cluster")) {
      const { runTopologies } = await import("./scenarios/topology.js");
      const levels = args.levels.split(",").map(Number);
      const simArgs = ["--decode-ms-per-token", String(args["decode-ms"])];
      const r = await runTopologies({ single: target, levels, tokens, rounds: Number(args.rounds), workers: Number(args.workers), simArgs, warmup: Number(args.warmup) });
      data.cluster = r.rows;
      tables.push(r.table);
    }
    if (scenarios.includes("steady")) {
      const rows = await runSteady(target, Number(args.rate), Number(args.seconds), 128);
      data.steady = rows;
      tables.push(levelTable(`Steady arrival: ${args.rate} req/s for ${args.seconds} s, 128 tokens each`, rows), overheadTable(rows));
    }
    if (scenarios.includes("admission")) {
      const r = await runAdmission({ redisUrl: stack.redisUrl, concurrency: 32, seconds: 5, rounds: 2, nodeArgs, redisPid: stack.redisPid });
      data.admission = { rows: r.rows, added: r.added, of_bare_hono: r.of_bare_hono };
      tables.push(r.table);
    }
    if (scenarios.includes("workers")) {
      const bar = progress("workerd vs Node edge", 0, "streams");
      const r = await runWorkersComparison({
        redisUrl: stack.redisUrl,
        nodeBaseUrl: stack.baseUrl,
        apiKey,
        model: target.model,
        concurrency: 32,
        tokens: 128,
        pids: { nodeEdge: stack.edge.pid, pool: stack.pool.pid, redis: stack.redisPid },
        onProgress: () => {
          bar.setTotal(bar.getTotal() + 1);
          bar.increment();
        },
      });
      bar.stop();
      data.workers = r.rows;
      tables.push(r.table);
    }
    if (scenarios.includes("oversized")) {
      const r = await runOversized({ baseUrl: stack.baseUrl, redisUrl: stack.redisUrl, model: target.model, poolPid: stack.pool.pid, rounds: 3 * Number(args.rounds) });
      data.oversized = r.rows;
      tables.push(r.table);
    }
  } finally {
    await stack.stop();
    if (args["cpu-prof"]) nameProfiles(profileDir, { pool: stack.pool.pid, edge: stack.edge.pid });
  }
  // The agentic scenario runs its own stack: 4 workers and one pool per routing policy.
  if (scenarios.includes("agentic")) {
    const { runAgentic } = await import("./scenarios/agentic.js");
    const r = await runAgentic();
    data.agentic = r.rows;
    tables.push(r.table);
  }
  const files = writeResults(String(args.name), data, tables);
  console.log("\n" + toMarkdown(tables));
  console.log(`\nwrote ${files.json} and ${files.md}`);
}

/**
 * Node names a profile CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: rename the
 * stack's to pool.cpuprofile / edge.cpuprofile (main thread) and *-thread<N> (others,
 * e.g. tsx's loader or the tokenization threads). Other processes' profiles (the
 * admission scenario's edges) keep their names.
 */
function nameProfiles(dir: string, pids: Record<string, number | undefined>): void {
  for (const f of readdirSync(dir)) {
    const m = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(f);
    const name = m && Object.keys(pids).find((k) => pids[k] === Number(m[1]));
    if (!m || !name) continue;
    renameSync(join(dir, f), join(dir, `${name}${m[2] === "0" ? "" : `-thread${m[2]}`}.cpuprofile`));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
