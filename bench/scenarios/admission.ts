// Scenario "admission": how many requests per second one edge process admits
// (auth + quota script + enqueue + SSE headers) and the latency quotas add,
// measured against a second edge process with quotas off, and a cluster of edge
// processes (EDGE_PROCESSES) with quotas on, and a bare Hono server (bench/lib/bare-hono.ts:
// the ceiling one Node process reaches on this machine), in the same run.
// The model is registered as served but no pool claims it, so only the edge
// and Redis do work; each request is dropped once its headers arrive.
import { Agent, request } from "node:http";
import { availableParallelism } from "node:os";
import { Redis } from "ioredis";
import { progress } from "../lib/progress.js";
import { keys } from "../../contract/queue/keys.js";
import { seedApiKey } from "../../edge/tenants.js";
import { startEdgeProcess, startServerProcess, freePort } from "../../scripts/stack.js";
import { summarize, round } from "../lib/stats.js";
import { procSample, treeCpuMs } from "../lib/proc.js";
import type { Table } from "../lib/report.js";

const MODEL = "bench-admission";

export interface AdmissionParams {
  redisUrl: string;
  concurrency: number;
  /** per measured round */
  seconds: number;
  /** rounds per edge, alternated off/on to spread machine noise over both */
  rounds: number;
  /** also measure a quotas-on edge of this many processes (EDGE_PROCESSES); default: the machine's cores */
  clusterProcesses?: number;
  /** extra Node flags for the edges (e.g. --cpu-prof) */
  nodeArgs?: string[];
  /** the redis-server's pid, for its CPU per admitted request */
  redisPid?: number;
}

/** Time to response headers of one streamed request; the connection is then dropped. */
function timeHeaders(agent: Agent, url: URL, key: string, body: string): Promise<{ ms: number; status: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(
      url,
      { method: "POST", agent, headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        const ms = performance.now() - t0;
        res.destroy();
        resolve({ ms, status: res.statusCode ?? 0 });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function measure(baseUrl: string, key: string, p: AdmissionParams, bar: ReturnType<typeof progress>) {
  const url = new URL(`${baseUrl}/v1/chat/completions`);
  const agent = new Agent({ keepAlive: false, maxSockets: p.concurrency });
  const body = JSON.stringify({ model: MODEL, stream: true, max_tokens: 16, messages: [{ role: "user", content: "admission bench" }] });
  const samples: number[] = [];
  let errors = 0;
  const end = performance.now() + p.seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: p.concurrency }, async () => {
      while (performance.now() < end) {
        const r = await timeHeaders(agent, url, key, body).catch(() => ({ ms: NaN, status: 0 }));
        if (r.status === 200) samples.push(r.ms);
        else errors++;
        bar.increment();
      }
    }),
  );
  const wall = performance.now() - t0;
  agent.destroy();
  return { samples, errors, rps: (samples.length / wall) * 1000 };
}

export async function runAdmission(p: AdmissionParams) {
  const redis = new Redis(p.redisUrl);
  // A pool registry entry for the model, so the edge accepts it, with nothing serving it.
  await redis.set(keys.pool("bench-admission"), JSON.stringify({ pool_id: "bench-admission", models: [MODEL], workers: [], started_at: Date.now() }), "PX", 3_600_000);
  await redis.zadd(keys.pools(), Date.now() + 3_600_000, "bench-admission");
  const key = "sk-bench-admission-0001";
  await seedApiKey(redis, { tenantId: "bench-adm", key, limits: { requests_per_minute: 10_000_000, tokens_per_minute: 1_000_000_000, max_concurrent_requests: 1_000_000 } });

  const on = await startEdgeProcess(p.redisUrl, await freePort(), { EDGE_QUOTAS: "on", LOG_LEVEL: "warn", EDGE_METRICS_PORT: "0" }, undefined, p.nodeArgs);
  const off = await startEdgeProcess(p.redisUrl, await freePort(), { EDGE_QUOTAS: "off", LOG_LEVEL: "warn", EDGE_METRICS_PORT: "0" }, undefined, p.nodeArgs);
  const procs = p.clusterProcesses ?? availableParallelism();
  const clustered = await startEdgeProcess(p.redisUrl, await freePort(), { EDGE_QUOTAS: "on", LOG_LEVEL: "warn", EDGE_METRICS_PORT: "0", EDGE_PROCESSES: String(procs) }, undefined, p.nodeArgs);
  const bare = await startServerProcess("bare-hono", "bench/lib/bare-hono.ts", {}, undefined, p.nodeArgs);
  const variants = [
    ["bare Hono: no auth, no Redis", bare],
    ["off", off],
    ["on", on],
    [`on, ${procs} processes`, clustered],
  ] as const;
  type Acc = { samples: number[]; errors: number; rps: number[]; edgeCpuMs: number; redisCpuMs: number };
  const fresh = (): Acc => ({ samples: [], errors: 0, rps: [], edgeCpuMs: 0, redisCpuMs: 0 });
  // Latency added is read at concurrency 1 (no queueing inside the edge); throughput at p.concurrency.
  const levels = [1, p.concurrency];
  const results = new Map<string, Acc>();
  const bar = progress("admission (quotas off, on, cluster)", 0, "requests");
  try {
    for (let round = 0; round < p.rounds; round++) {
      for (const c of levels) {
        for (const [name, edge] of variants) {
          const acc = results.get(`${name}@${c}`) ?? fresh();
          results.set(`${name}@${c}`, acc);
          // CPU is steadier than req/s on a shared machine: it does not count time spent waiting for a core
          const edgeCpu = treeCpuMs(edge.child.pid) ?? NaN;
          const redisCpu = procSample(p.redisPid)?.cpuMs ?? NaN;
          const r = await measure(edge.baseUrl, key, { ...p, concurrency: c }, bar);
          acc.edgeCpuMs += (treeCpuMs(edge.child.pid) ?? NaN) - edgeCpu;
          acc.redisCpuMs += (procSample(p.redisPid)?.cpuMs ?? NaN) - redisCpu;
          acc.samples.push(...r.samples);
          acc.errors += r.errors;
          acc.rps.push(r.rps);
          // Requests are dropped after their headers: clear the queue they left behind.
          await redis.del(keys.jobs(MODEL), keys.tenantQueue(MODEL, "bench-adm"), keys.activeTenants(MODEL));
        }
      }
    }
  } finally {
    bar.stop();
    await Promise.all([on.stop(), off.stop(), clustered.stop(), bare.stop()]);
    redis.disconnect();
  }
  const rows = levels.flatMap((c) =>
    variants.map(([name]) => {
      const acc = results.get(`${name}@${c}`)!;
      const s = summarize(acc.samples);
      const rps = acc.rps.reduce((a, b) => a + b, 0) / acc.rps.length;
      const perRequest = (ms: number) => round((ms * 1000) / Math.max(1, s.n), 0);
      return {
        quotas: name,
        concurrency: c,
        requests: s.n,
        errors: acc.errors,
        rps: round(rps, 0),
        p50_ms: round(s.p50, 3),
        p99_ms: round(s.p99, 3),
        edge_cpu_us_per_request: perRequest(acc.edgeCpuMs),
        redis_cpu_us_per_request: perRequest(acc.redisCpuMs),
      };
    }),
  );
  const at1 = (name: string) => rows.find((r) => r.concurrency === 1 && r.quotas === name)!;
  const at32 = (name: string) => rows.find((r) => r.concurrency === p.concurrency && r.quotas === name)!;
  const ofBare = round(at32("on").rps / at32(variants[0][0]).rps, 2);
  const added = { p50_ms: round(at1("on").p50_ms - at1("off").p50_ms, 3), p99_ms: round(at1("on").p99_ms - at1("off").p99_ms, 3) };
  const table: Table = {
    title: `Admission per edge (${p.rounds}×${p.seconds}s per cell, variants alternated): a bare Hono server, one edge process quotas off / on, and a ${procs}-process cluster (EDGE_PROCESSES) quotas on`,
    columns: ["concurrent clients", "edge (quotas)", "admitted req/s", "time to headers p50 ms", "p99 ms", "edge CPU µs / request", "Redis CPU µs / request", "errors"],
    rows: rows.map((r) => [r.concurrency, r.quotas, r.rps, r.p50_ms, r.p99_ms, r.edge_cpu_us_per_request, r.redis_cpu_us_per_request, r.errors]),
    notes: [
      `Auth + quota script added at concurrency 1: p50 ${added.p50_ms} ms, p99 ${added.p99_ms} ms.`,
      `At ${p.concurrency} clients one edge process with quotas on admits ${ofBare}× a bare Hono server's req/s, measured in the same run.`,
    ],
  };
  return { rows, added, of_bare_hono: ofBare, table };
}
