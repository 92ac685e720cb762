// Scenario "admission": how many requests per second one edge process admits
// (auth + quota script + enqueue + SSE headers) and the latency quotas add,
// measured against a second edge process with quotas off, in the same run.
// The model is registered as served but no pool claims it, so only the edge
// and Redis do work; each request is dropped once its headers arrive.
import { Agent, request } from "node:http";
import { Redis } from "ioredis";
import { progress } from "../lib/progress.js";
import { keys } from "../../proto/queue/keys.js";
import { seedApiKey } from "../../edge/tenants.js";
import { startEdgeProcess, freePort } from "../../scripts/stack.js";
import { summarize, round } from "../lib/stats.js";
import type { Table } from "../lib/report.js";

const MODEL = "bench-admission";

export interface AdmissionParams {
  redisUrl: string;
  concurrency: number;
  /** per measured round */
  seconds: number;
  /** rounds per edge, alternated off/on to spread machine noise over both */
  rounds: number;
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

  const on = await startEdgeProcess(p.redisUrl, await freePort(), { EDGE_QUOTAS: "on", LOG_LEVEL: "warn", EDGE_METRICS_PORT: "0" });
  const off = await startEdgeProcess(p.redisUrl, await freePort(), { EDGE_QUOTAS: "off", LOG_LEVEL: "warn", EDGE_METRICS_PORT: "0" });
  const results = { on: { samples: [] as number[], errors: 0, rps: [] as number[] }, off: { samples: [] as number[], errors: 0, rps: [] as number[] } };
  const bar = progress("admission (quotas off, on)", 0, "requests");
  try {
    for (let round = 0; round < p.rounds; round++) {
      for (const [name, edge] of [["off", off], ["on", on]] as const) {
        const r = await measure(edge.baseUrl, key, p, bar);
        results[name].samples.push(...r.samples);
        results[name].errors += r.errors;
        results[name].rps.push(r.rps);
        // Requests are dropped after their headers: clear the queue they left behind.
        await redis.del(keys.jobs(MODEL), keys.tenantQueue(MODEL, "bench-adm"), keys.activeTenants(MODEL));
      }
    }
  } finally {
    bar.stop();
    await Promise.all([on.stop(), off.stop()]);
    redis.disconnect();
  }
  const row = (name: "on" | "off") => {
    const s = summarize(results[name].samples);
    const rps = results[name].rps.reduce((a, b) => a + b, 0) / results[name].rps.length;
    return { quotas: name, requests: s.n, errors: results[name].errors, rps: round(rps, 0), p50_ms: round(s.p50, 3), p99_ms: round(s.p99, 3) };
  };
  const rows = [row("off"), row("on")];
  const added = { p50_ms: round(rows[1].p50_ms - rows[0].p50_ms, 3), p99_ms: round(rows[1].p99_ms - rows[0].p99_ms, 3) };
  const table: Table = {
    title: `Admission on one edge process (${p.concurrency} concurrent clients, ${p.rounds}×${p.seconds}s per side)`,
    columns: ["quotas", "admitted req/s", "time to headers p50 ms", "p99 ms", "errors"],
    rows: rows.map((r) => [r.quotas, r.rps, r.p50_ms, r.p99_ms, r.errors]),
    notes: [`Auth + quota script added: p50 ${added.p50_ms} ms, p99 ${added.p99_ms} ms.`],
  };
  return { rows, added, table };
}
