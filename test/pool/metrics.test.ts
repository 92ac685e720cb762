// The pool's internal HTTP port after known traffic against a real simulated
// worker: /metrics counts (outcomes, tokens = the usage written to the
// response streams, TTFT per run, queue wait), worker gauges (state, in
// flight, GetLoads), /status.json behind the admin token, and the pool's
// structured "request finished" log line (requestId, tenant, model, worker;
// no prompt text).
import { Writable } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { startPool, type PoolHandle } from "../../pool/main.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import type { Job, Usage } from "../../contract/queue/messages.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { scrape, series, sum } from "../helpers/prom.js";
import { cancel, enqueue, makeJob, readUntilTerminal, settled, type StreamEntry } from "./helpers.js";

const ADMIN = "admin-token-0123456789abcdef";
const MARKER = "PROMPT-MARKER-91bc";

let redis: RedisServer;
let sim: SimWorker;
let pool: PoolHandle;
let r: Redis;
const logLines: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  sim = await startSimWorker({ port: 0, decodeMsPerToken: 0.5, decodeMsPerRunning: 0 });
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  pool = await startPool(
    { redisUrl: redis.url, workers: [sim.address], httpPort: 0, httpHost: "127.0.0.1", adminToken: ADMIN, logLevel: "info" },
    { logger: pino({ level: "info" }, sink) },
  );
  r = redis.client();
});

afterAll(async () => {
  await pool?.stop();
  await sim?.stop(100);
  await redis?.stop();
});

async function run(job: Job, onEntry?: (e: StreamEntry) => void): Promise<StreamEntry[]> {
  const conn = redis.client();
  const reading = readUntilTerminal(conn, job.id, 20_000, onEntry);
  const acked = settled(pool, job.id);
  await enqueue(r, job);
  const entries = await reading;
  await acked;
  conn.disconnect();
  return entries;
}

it("exposes the bound port; /metrics is open, /status needs the admin token", async () => {
  expect(pool.httpPort).toBeGreaterThan(0);
  expect(pool.httpUrl).toBe(`http://127.0.0.1:${pool.httpPort}`);
  expect((await fetch(pool.httpUrl + "/metrics")).status).toBe(200);
  expect((await fetch(pool.httpUrl + "/healthz")).status).toBe(200);
  expect((await fetch(pool.httpUrl + "/status.json")).status).toBe(401);
  expect((await fetch(pool.httpUrl + "/status")).status).toBe(401);
  expect((await fetch(pool.httpUrl + "/status.json", { headers: { authorization: "Bearer wrong-token-0000000000" } })).status).toBe(401);
  expect((await fetch(pool.httpUrl + `/status?token=${ADMIN}`)).status).toBe(200);
  const res = await fetch(pool.httpUrl + "/status.json", { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(res.status).toBe(200);
  const s = (await res.json()) as { poolId: string; workers: { address: string; state: string; up: boolean }[] };
  expect(s.poolId).toBe(pool.poolId);
  expect(s.workers).toEqual([expect.objectContaining({ address: sim.address, state: "ready", up: true })]);
});

it("counts runs by outcome, tokens equal to the usage written, one TTFT per run", async () => {
  const usages: Usage[] = [];
  for (const [i, max] of [12, 20, 7].entries()) {
    const job = makeJob({ tenant_id: "t-ok", prompt: `${MARKER} story number ${i}`, sampling: { max_tokens: max } });
    const entries = await run(job);
    const last = entries[entries.length - 1]!.event;
    expect(last.type).toBe("done");
    if (last.type === "done") usages.push(last.usage);
  }
  // One request cancelled after its first chunk.
  const long = makeJob({ tenant_id: "t-cancel", prompt: `${MARKER} a long one`, sampling: { max_tokens: 4000 } });
  let cancelled = false;
  const entries = await run(long, (e) => {
    if (!cancelled && e.event.type === "chunk") {
      cancelled = true;
      void cancel(r, long);
    }
  });
  const end = entries[entries.length - 1]!.event;
  expect(end.type === "error" && end.error.code).toBe("cancelled");

  const m = await scrape(pool.httpUrl + "/metrics");
  const model = long.model;
  expect(sum(m, "speedgate_pool_requests_total", { outcome: "ok", tenant: "t-ok", gen_ai_request_model: model })).toBe(3);
  expect(sum(m, "speedgate_pool_requests_total", { outcome: "cancelled", tenant: "t-cancel", error_type: "cancelled" })).toBe(1);
  expect(sum(m, "speedgate_pool_requests_total")).toBe(4);

  const total = (f: (u: Usage) => number) => usages.reduce((a, u) => a + f(u), 0);
  expect(sum(m, "speedgate_tokens_total", { tenant: "t-ok", type: "input" })).toBe(total((u) => u.prompt_tokens));
  expect(sum(m, "speedgate_tokens_total", { tenant: "t-ok", type: "output" })).toBe(total((u) => u.completion_tokens));
  expect(sum(m, "speedgate_tokens_total", { tenant: "t-ok", type: "cached" })).toBe(total((u) => u.cached_tokens));
  expect(sum(m, "speedgate_tokens_total", { tenant: "t-cancel", type: "output" })).toBeGreaterThan(0);
  expect(sum(m, "gen_ai_client_token_usage_sum", { gen_ai_token_type: "output" })).toBe(total((u) => u.completion_tokens));
  expect(sum(m, "gen_ai_client_token_usage_count", { gen_ai_token_type: "input" })).toBe(3);

  expect(sum(m, "gen_ai_server_time_to_first_token_seconds_count", { gen_ai_request_model: model, gen_ai_operation_name: "text_completion" })).toBe(4);
  expect(sum(m, "gen_ai_server_time_per_output_token_seconds_count")).toBe(3);
  expect(sum(m, "gen_ai_server_request_duration_seconds_count")).toBe(4);
  expect(sum(m, "speedgate_queue_wait_seconds_count", { gen_ai_request_model: model })).toBe(4);
  // Each run's phases before its first Generate call, once per run (the bench's breakdown reads them).
  for (const phase of ["template", "tokenize", "prepare", "dispatch"]) {
    expect(sum(m, "speedgate_pool_phase_seconds_count", { phase })).toBe(4);
    expect(sum(m, "speedgate_pool_phase_seconds_sum", { phase })).toBeGreaterThan(0);
  }
  // Every token the worker sent is counted once per worker.
  expect(sum(m, "speedgate_worker_output_tokens_total", { worker: sim.address })).toBeGreaterThanOrEqual(total((u) => u.completion_tokens));

  // Worker gauges, read at scrape time.
  expect(sum(m, "speedgate_worker_up", { worker: sim.address })).toBe(1);
  expect(sum(m, "speedgate_worker_state", { worker: sim.address, state: "ready" })).toBe(1);
  expect(sum(m, "speedgate_worker_state", { worker: sim.address })).toBe(1);
  expect(sum(m, "speedgate_worker_in_flight_requests", { worker: sim.address })).toBe(0);
  expect(sum(m, "speedgate_pool_in_flight_requests")).toBe(0);
  expect(series(m, "speedgate_queued_requests").length).toBeGreaterThan(0);
  expect(sum(m, "speedgate_queued_requests")).toBe(0);
});

it("shows GetLoads numbers (KV cache hit rate) per worker", async () => {
  // The same prompt twice: the second reuses the first's KV blocks.
  const prompt = `${MARKER} ` + "shared prefix ".repeat(80);
  await run(makeJob({ tenant_id: "t-ok", prompt, sampling: { max_tokens: 4 } }));
  await run(makeJob({ tenant_id: "t-ok", prompt, sampling: { max_tokens: 4 } }));
  // Poll until the poller's next answer (interval 1 s) reflects the traffic.
  const deadline = Date.now() + 10_000;
  let hit = 0;
  while (Date.now() < deadline) {
    const m = await scrape(pool.httpUrl + "/metrics");
    hit = sum(m, "speedgate_worker_kv_cache_hit_rate", { worker: sim.address });
    if (hit > 0) {
      expect(series(m, "speedgate_worker_kv_cache_usage_ratio").length).toBe(1);
      expect(series(m, "speedgate_worker_running_requests").length).toBe(1);
      break;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  expect(hit).toBeGreaterThan(0);
  expect(hit).toBeLessThanOrEqual(1);
});

it("asks each worker for its loads once per interval, for routing and the metrics alike", async () => {
  // The router (kv-aware, the default) and /metrics both use GetLoads; one poller (1 s)
  // serves both. Counted from just after a poll, 2.5 s hold two more polls (three if a
  // timer slips); a second poller would add two or three of its own.
  const calls = () => sim.stats().getLoadsCalls;
  const before = calls();
  while (calls() === before) await new Promise((res) => setTimeout(res, 5));
  const from = calls();
  await new Promise((res) => setTimeout(res, 2_500)); // the window being counted, not a wait for an event
  expect(calls() - from).toBeGreaterThanOrEqual(1);
  expect(calls() - from).toBeLessThanOrEqual(3);
});

it("logs one request line per run with requestId, tenant, model and worker; never the prompt", async () => {
  const joined = logLines.join("\n");
  expect(joined).not.toContain(MARKER);
  const lines = logLines.map((l) => JSON.parse(l));
  const finished = lines.filter((l) => l.msg === "request finished");
  expect(finished.length).toBeGreaterThanOrEqual(6);
  for (const l of finished) {
    expect(l).toMatchObject({ pool: pool.poolId, model: "qwen3-sim", worker: sim.address, level: 30 });
    expect(l.requestId).toMatch(/^req-/);
    expect(["t-ok", "t-cancel"]).toContain(l.tenant);
  }
  expect(finished.filter((l) => l.outcome === "cancelled")).toHaveLength(1);
});
