// Streaming load through the full path (HTTP -> edge -> Redis -> pool -> sim
// worker -> back) next to the same load sent straight to the simulated workers
// over gRPC, in the same run: closed loop at fixed concurrency ("streams",
// "sweep") or open loop at a fixed arrival rate ("steady").
import { round } from "../lib/stats.js";
import { runConcurrent, summarizeStreams, timeSseStream, type StreamSample, type StreamSummary } from "../lib/stream-load.js";
import { directClients, timeDirectStream } from "../lib/direct.js";
import { progress } from "../lib/progress.js";
import type { Table } from "../lib/report.js";
import { cpuMeter, cpuSplit, type CpuPer1k, type GatewayPids } from "../lib/proc.js";
import { breakdownMeter, type Breakdown, type BreakdownSources } from "../lib/breakdown.js";

export interface Target {
  baseUrl: string;
  apiKey: string;
  model: string;
  workerAddrs: string[];
  /** the gateway's processes, for CPU per 1k output tokens of the full path */
  gatewayPids?: GatewayPids;
  /** the gateway's metrics endpoints, for the per-stage breakdown of the full path */
  metrics?: BreakdownSources;
}

export type PathResult = StreamSummary & {
  path: "direct" | "full";
  concurrency: number;
  /** full path: CPU ms per 1,000 output tokens of each gateway process (edge, pool, redis) and their total */
  gateway_cpu_ms_per_1k_tokens?: CpuPer1k;
  /** full path: mean ms per request of each stage, from the gateway's histograms */
  breakdown?: Breakdown;
};

function aggregate(path: PathResult["path"], concurrency: number, samples: StreamSample[], wallMs: number, cpu?: ReturnType<typeof cpuMeter>, breakdown?: Breakdown): PathResult {
  const summary = summarizeStreams(samples, wallMs);
  const perK = cpu?.(summary.tokens);
  return { path, concurrency, ...summary, ...(perK ? { gateway_cpu_ms_per_1k_tokens: perK } : {}), ...(breakdown ? { breakdown } : {}) };
}

/** A short distinct prompt per request, so no run benefits from another's KV cache. */
const promptText = (tag: string, i: number) => `Write a long story about lighthouse keeper ${tag}-${i}.`;
const promptIds = (i: number, salt: number) => Array.from({ length: 32 }, (_, k) => 1000 + ((i * 37 + k * 11 + salt * 7919) % 5000));

function fullRequest(t: Target, tokens: number, tag: string, i: number) {
  return timeSseStream(`${t.baseUrl}/v1/chat/completions`, t.apiKey, {
    model: t.model,
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: tokens,
    temperature: 0,
    messages: [{ role: "user", content: promptText(tag, i) }],
  });
}

let salt = 0;

/**
 * Streams sent through both paths before anything is measured, and thrown away.
 * A gateway in production is a long-running process whose hot code V8 has long
 * optimized; measured cold, the first level's CPU per token is mostly JIT work
 * (about 2x the warm figure at 1 stream on these machines).
 */
export async function warmUp(t: Target, requests: number, tokens: number): Promise<void> {
  const clients = directClients(t.workerAddrs);
  let bar = progress("warm-up: direct gRPC", requests);
  await runConcurrent(requests, 32, (i) => timeDirectStream(clients[i % clients.length], `bench-warm-${i}`, promptIds(i, 0), tokens), () => bar.increment());
  bar.stop();
  clients.forEach((c) => c.close());
  bar = progress("warm-up: full path", requests);
  await runConcurrent(requests, 32, (i) => fullRequest(t, tokens, "warm", i), () => bar.increment());
  bar.stop();
}

/** One closed-loop level: `requests` streams with `concurrency` in flight, direct first, then the full path. */
export async function runLevel(t: Target, concurrency: number, tokens: number, requests = concurrency): Promise<PathResult[]> {
  const s = ++salt;
  const clients = directClients(t.workerAddrs);
  let bar = progress(`direct gRPC   c=${concurrency}`, requests);
  let t0 = performance.now();
  const direct = await runConcurrent(
    requests,
    concurrency,
    (i) => timeDirectStream(clients[i % clients.length], `bench-direct-${s}-${i}`, promptIds(i, s), tokens),
    () => bar.increment(),
  );
  const directWall = performance.now() - t0;
  bar.stop();
  clients.forEach((c) => c.close());

  bar = progress(`full path     c=${concurrency}`, requests);
  t0 = performance.now();
  const cpu = cpuMeter(t.gatewayPids ?? {});
  const stages = await breakdownMeter(t.metrics ?? {});
  const full = await runConcurrent(requests, concurrency, (i) => fullRequest(t, tokens, `L${s}`, i), () => bar.increment());
  const fullWall = performance.now() - t0;
  bar.stop();
  return [aggregate("direct", concurrency, direct, directWall), aggregate("full", concurrency, full, fullWall, cpu, await stages())];
}

/** Open loop: requests arrive at `rate` per second for `seconds`, whatever the latency. */
export async function runSteady(t: Target, rate: number, seconds: number, tokens: number): Promise<PathResult[]> {
  const out: PathResult[] = [];
  const total = Math.round(rate * seconds);
  for (const path of ["direct", "full"] as const) {
    const s = ++salt;
    const clients = path === "direct" ? directClients(t.workerAddrs) : [];
    const bar = progress(`${path === "direct" ? "direct gRPC" : "full path"}   ${rate} req/s`, total);
    const t0 = performance.now();
    const cpu = path === "full" ? cpuMeter(t.gatewayPids ?? {}) : undefined;
    const stages = path === "full" ? await breakdownMeter(t.metrics ?? {}) : undefined;
    const pending: Promise<StreamSample>[] = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const p = path === "direct" ? timeDirectStream(clients[i % clients.length], `bench-steady-${s}-${i}`, promptIds(i, s), tokens) : fullRequest(t, tokens, `S${s}`, i);
      pending.push(p.finally(() => bar.increment()));
    }
    const samples = await Promise.all(pending);
    bar.stop();
    clients.forEach((c) => c.close());
    out.push(aggregate(path, 0, samples, performance.now() - t0, cpu, await stages?.()));
  }
  return out;
}

export function levelTable(title: string, rows: PathResult[]): Table {
  return {
    title,
    columns: ["concurrency", "path", "TTFT p50 ms", "TTFT p99 ms", "ITL p50 ms", "ITL p99 ms", "tokens/s", "errors"],
    rows: rows.map((r) => [r.concurrency || "open loop", r.path === "direct" ? "direct gRPC (baseline)" : "full path", r.ttft_p50_ms, r.ttft_p99_ms, r.itl_p50_ms, r.itl_p99_ms, r.tokens_per_s, r.errors]),
  };
}

/** Overhead of the full path over the direct baseline at each level. */
export function overheadTable(rows: PathResult[]): Table {
  const levels = [...new Set(rows.map((r) => r.concurrency))];
  return {
    title: "Overhead of the full path over direct gRPC",
    notes: [
      "ITL p99 ratio: the full path's gaps between SSE chunks with content over direct's gaps between token frames. " +
        "A character split across tokens (the sim's CJK and emoji) shows in no chunk until its last token, so the ratio to direct's gaps between frames that add visible text compares like with like.",
    ],
    columns: ["concurrency", "TTFT p50 added ms", "TTFT p99 added ms", "ITL p99 ratio", "ITL p99 ratio to direct's text gaps", "tokens/s ratio (full / direct)", "gateway CPU ms / 1k tokens (edge + pool + redis)"],
    rows: levels.map((c) => {
      const d = rows.find((r) => r.concurrency === c && r.path === "direct")!;
      const f = rows.find((r) => r.concurrency === c && r.path === "full")!;
      const split = cpuSplit(f.gateway_cpu_ms_per_1k_tokens);
      return [c || "open loop", round(f.ttft_p50_ms - d.ttft_p50_ms), round(f.ttft_p99_ms - d.ttft_p99_ms), round(f.itl_p99_ms / d.itl_p99_ms, 2), d.text_itl_p99_ms ? round(f.itl_p99_ms / d.text_itl_p99_ms, 2) : "n/a", round(f.tokens_per_s / d.tokens_per_s, 3), split];
    }),
  };
}

/** Where the full path's time to first token goes, per level (means from the gateway's histograms). */
export function breakdownTable(rows: PathResult[]): Table {
  const full = rows.filter((r) => r.path === "full" && r.breakdown);
  const v = (x: number | undefined) => (x === undefined ? "n/a" : x);
  return {
    title: "Where the full path's first token goes (means per request, ms)",
    columns: ["concurrency", "client TTFT p50", "edge: arrival → first chunk sent", "queue wait", "pool: claim → first token", "template", "tokenize", "prepare (incl. thread wait)", "dispatch (begin wait + routing)"],
    rows: full.map((r) => {
      const b = r.breakdown!;
      return [r.concurrency || "open loop", v(r.ttft_p50_ms), v(b.edge_ttft_ms), v(b.queue_wait_ms), v(b.pool_ttft_ms), v(b.template_ms), v(b.tokenize_ms), v(b.prepare_ms), v(b.dispatch_ms)];
    }),
  };
}
