// The Node edge's Prometheus /metrics after known traffic (a FakePool plays
// the pool, so every usage number is ours): request counts by status and
// tenant, token counters equal to the usage the clients received, TTFT count
// equal to the number of streamed requests, the tenant-label cap. Also: the
// access log carries the request id and never the API key or prompt text.
import { Writable } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pino } from "pino";
import { startNodeEdge, type NodeEdge } from "../../edge/entry-node.js";
import { seedApiKey } from "../../edge/tenants.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { scrape, series, sum } from "../helpers/prom.js";
import { FakePool, MODEL, SseReader, post, registerPool } from "./helpers.js";

const KEY_A = "sk-metrics-acme-0123456789";
const KEY_B = "sk-metrics-beta-0123456789";
const PROMPT = "PROMPT-MARKER-7f3a tell me a secret";

let redis: RedisServer;
let edge: NodeEdge;
let pool: FakePool;
const logLines: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  const r = redis.client();
  await registerPool(r, "pool-1", [MODEL]);
  await seedApiKey(r, { tenantId: "acme", key: KEY_A });
  await seedApiKey(r, { tenantId: "beta", key: KEY_B });
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  edge = await startNodeEdge({
    redisUrl: redis.url,
    port: 0,
    metricsPort: 0,
    tenantLabels: 1, // acme (seen first) gets its label, beta becomes "other"
    config: { modelCacheMs: 0 },
    logger: pino({ level: "info" }, sink),
  });
  pool = new FakePool(redis);
});

afterAll(async () => {
  await edge?.close();
  await redis?.stop();
});

const body = (extra: Record<string, unknown>) => JSON.stringify({ model: MODEL, messages: [{ role: "user", content: PROMPT }], ...extra });

interface ClientUsage {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

async function streamed(key: string, tenant: string, texts: string[], usage: { prompt_tokens: number; completion_tokens: number; cached_tokens: number }): Promise<ClientUsage> {
  const res = await post(edge.url + "/v1/chat/completions", key, body({ stream: true, stream_options: { include_usage: true } }));
  expect(res.status).toBe(200);
  await pool.serve(tenant, texts, usage, MODEL);
  const events = (await new SseReader(res).rest()).filter((e) => e.kind === "event" && e.data !== "[DONE]");
  const last = JSON.parse(events[events.length - 1]!.data!);
  return last.usage as ClientUsage;
}

async function nonStreamed(key: string, tenant: string, usage: { prompt_tokens: number; completion_tokens: number; cached_tokens: number }): Promise<ClientUsage> {
  const pending = post(edge.url + "/v1/chat/completions", key, body({}));
  await pool.serve(tenant, ["Hello", " world"], usage, MODEL);
  const res = await pending;
  expect(res.status).toBe(200);
  return ((await res.json()) as { usage: ClientUsage }).usage;
}

it("serves /metrics on its own port, not on the public one", async () => {
  expect(edge.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  expect(edge.metricsPort).not.toBe(edge.port);
  const pub = await fetch(edge.url + "/metrics");
  expect(pub.status).toBe(404);
  const res = await fetch(edge.metricsUrl!);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/text\/plain/);
});

it("counts requests by status and tenant, tokens as returned to clients, TTFT per streamed request", async () => {
  const usages: ClientUsage[] = [];
  usages.push(await streamed(KEY_A, "acme", ["Hel", "lo", "!"], { prompt_tokens: 11, completion_tokens: 3, cached_tokens: 4 }));
  usages.push(await streamed(KEY_A, "acme", ["A", "B", "C", "D"], { prompt_tokens: 13, completion_tokens: 4, cached_tokens: 0 }));
  usages.push(await nonStreamed(KEY_A, "acme", { prompt_tokens: 17, completion_tokens: 2, cached_tokens: 8 }));
  const unauthorized = await post(edge.url + "/v1/chat/completions", "sk-wrong-key-0000000000", body({}));
  expect(unauthorized.status).toBe(401);
  // A second tenant beyond the label cap (tenantLabels: 1).
  const betaUsage = await nonStreamed(KEY_B, "beta", { prompt_tokens: 5, completion_tokens: 1, cached_tokens: 0 });

  const m = await scrape(edge.metricsUrl!);
  const route = "/v1/chat/completions";
  const reqs = series(m, "speedgate_edge_requests_total").filter((s) => s.labels.route === route);
  expect(sum(reqs, "speedgate_edge_requests_total", { status: "200", tenant: "acme" })).toBe(3);
  expect(sum(reqs, "speedgate_edge_requests_total", { status: "401" })).toBe(1);
  expect(sum(reqs, "speedgate_edge_requests_total", { status: "401", tenant: "none", gen_ai_request_model: "unknown" })).toBe(1);
  expect(sum(reqs, "speedgate_edge_requests_total", { status: "200", tenant: "other" })).toBe(1);
  expect(reqs.some((s) => s.labels.tenant === "beta")).toBe(false);
  expect(sum(reqs, "speedgate_edge_requests_total")).toBe(5);

  // Token counters equal the usage the clients were given.
  const total = (f: (u: ClientUsage) => number) => usages.reduce((a, u) => a + f(u), 0);
  const tk = (type: string, tenant: string) => sum(m, "speedgate_tokens_total", { type, tenant, gen_ai_request_model: MODEL });
  expect(tk("input", "acme")).toBe(total((u) => u.prompt_tokens));
  expect(tk("output", "acme")).toBe(total((u) => u.completion_tokens));
  expect(tk("cached", "acme")).toBe(total((u) => u.prompt_tokens_details.cached_tokens));
  expect(tk("output", "other")).toBe(betaUsage.completion_tokens);
  const all = [...usages, betaUsage];
  expect(sum(m, "gen_ai_client_token_usage_sum", { gen_ai_token_type: "input" })).toBe(all.reduce((a, u) => a + u.prompt_tokens, 0));
  expect(sum(m, "gen_ai_client_token_usage_sum", { gen_ai_token_type: "output" })).toBe(all.reduce((a, u) => a + u.completion_tokens, 0));
  expect(sum(m, "gen_ai_client_token_usage_count", { gen_ai_token_type: "output" })).toBe(4);

  // Latency histograms: TTFT and time per output token only for the 2 streamed requests; duration for all 5 completions.
  expect(sum(m, "gen_ai_server_time_to_first_token_seconds_count", { gen_ai_operation_name: "chat", gen_ai_request_model: MODEL })).toBe(2);
  expect(sum(m, "gen_ai_server_time_per_output_token_seconds_count")).toBe(2);
  expect(sum(m, "gen_ai_server_request_duration_seconds_count")).toBe(5);
  expect(sum(m, "gen_ai_server_request_duration_seconds_count", { error_type: "invalid_api_key" })).toBe(1);
  expect(sum(m, "gen_ai_server_request_duration_seconds_count", { stream: "true", error_type: "" })).toBe(2);
  expect(sum(m, "speedgate_edge_open_streams")).toBe(0);
  expect(series(m, "process_cpu_user_seconds_total").length).toBe(1);
  // event-loop lag still exported, sampled every EVENT_LOOP_LAG_PRECISION_MS
  expect(series(m, "nodejs_eventloop_lag_p99_seconds").length).toBe(1);
});

it("an in-stream error counts under the pool's status and a client disconnect as 499", async () => {
  const before = await scrape(edge.metricsUrl!);
  const res = await post(edge.url + "/v1/chat/completions", KEY_A, body({ stream: true }));
  const job = await pool.claim("acme");
  await pool.error(job.id, { status: 503, type: "server_error", code: "worker_unavailable", message: "no worker" });
  await new SseReader(res).rest();

  const ctl = new AbortController();
  const gone = await post(edge.url + "/v1/chat/completions", KEY_A, body({ stream: true }), {}, ctl.signal);
  const reader = new SseReader(gone);
  await reader.next(); // queued position
  ctl.abort();
  await reader.cancel();
  // The relay notices the disconnect, ends the stream and finishes the observation.
  const deadline = Date.now() + 5_000;
  let after = await scrape(edge.metricsUrl!);
  while (sum(after, "speedgate_edge_requests_total", { status: "499" }) === sum(before, "speedgate_edge_requests_total", { status: "499" }) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    after = await scrape(edge.metricsUrl!);
  }
  const delta = (labels: Record<string, string>) => sum(after, "speedgate_edge_requests_total", labels) - sum(before, "speedgate_edge_requests_total", labels);
  expect(delta({ status: "503", tenant: "acme" })).toBe(1);
  expect(delta({ status: "499", tenant: "acme" })).toBe(1);
  expect(sum(after, "gen_ai_server_request_duration_seconds_count", { error_type: "worker_unavailable" })).toBe(1);
  expect(sum(after, "gen_ai_server_request_duration_seconds_count", { error_type: "client_disconnected" })).toBe(1);
});

it("logs one structured line per request with the request id, never the API key or prompt text", async () => {
  const joined = logLines.join("\n");
  expect(joined).not.toContain(KEY_A);
  expect(joined).not.toContain(KEY_B);
  expect(joined).not.toContain("sk-wrong-key");
  expect(joined).not.toContain("PROMPT-MARKER-7f3a");
  const access = logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
  expect(access.length).toBeGreaterThanOrEqual(7);
  for (const l of access) {
    expect(l.requestId).toMatch(/^(chatcmpl|cmpl|req)-/);
    expect(typeof l.status).toBe("number");
  }
  const ok = access.find((l) => l.status === 200 && l.tenant === "acme");
  expect(ok).toMatchObject({ model: MODEL, route: "/v1/chat/completions", level: 30 });
  expect(ok.promptTokens).toBeGreaterThan(0);
});
