// Scenario "streams": C concurrent streams of T tokens through the full path
// (HTTP -> edge -> Redis -> pool -> sim worker -> back), next to the same load
// sent straight to the simulated workers over gRPC, in the same run.
import { SingleBar, Presets } from "cli-progress";
import { summarize, round } from "../lib/stats.js";
import { runConcurrent, timeSseStream, type StreamSample } from "../lib/stream-load.js";
import { directClients, timeDirectStream } from "../lib/direct.js";
import type { Table } from "../lib/report.js";

export interface StreamsParams {
  baseUrl: string;
  apiKey: string;
  model: string;
  workerAddrs: string[];
  concurrency: number;
  tokens: number;
  /** requests per side; default = concurrency (one wave) */
  requests?: number;
}

function aggregate(label: string, samples: StreamSample[], wallMs: number) {
  const ok = samples.filter((s) => !s.error);
  const ttft = summarize(ok.map((s) => s.ttftMs));
  const itl = summarize(ok.flatMap((s) => s.itlMs));
  const tokens = ok.reduce((n, s) => n + s.tokens, 0);
  return {
    label,
    requests: samples.length,
    errors: samples.length - ok.length,
    firstError: samples.find((s) => s.error)?.error,
    ttft_p50_ms: round(ttft.p50),
    ttft_p99_ms: round(ttft.p99),
    itl_p50_ms: round(itl.p50),
    itl_p99_ms: round(itl.p99),
    tokens,
    tokens_per_s: round((tokens / wallMs) * 1000, 0),
    wall_ms: round(wallMs, 0),
  };
}

function bar(label: string, total: number): SingleBar {
  const b = new SingleBar({ format: `${label.padEnd(28)} [{bar}] {value}/{total} streams`, hideCursor: true }, Presets.shades_classic);
  b.start(total, 0);
  return b;
}

export async function runStreams(p: StreamsParams) {
  const requests = p.requests ?? p.concurrency;
  const prompt = "Write a long story about a lighthouse keeper.";
  // Direct baseline first, so both sides see the same cold/warm state of the workers' KV caches
  // (each request gets a distinct prompt either way).
  const clients = directClients(p.workerAddrs);
  let b = bar(`direct gRPC c=${p.concurrency}`, requests);
  let t0 = performance.now();
  const direct = await runConcurrent(
    requests,
    p.concurrency,
    (i) => timeDirectStream(clients[i % clients.length], `bench-direct-${Date.now()}-${i}`, promptIds(i), p.tokens),
    () => b.increment(),
  );
  const directWall = performance.now() - t0;
  b.stop();
  clients.forEach((c) => c.close());

  b = bar(`full path c=${p.concurrency}`, requests);
  t0 = performance.now();
  const full = await runConcurrent(
    requests,
    p.concurrency,
    (i) =>
      timeSseStream(`${p.baseUrl}/v1/chat/completions`, p.apiKey, {
        model: p.model,
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: p.tokens,
        temperature: 0,
        messages: [{ role: "user", content: `${prompt} (#${i})` }],
      }),
    () => b.increment(),
  );
  const fullWall = performance.now() - t0;
  b.stop();

  const rows = [aggregate("direct gRPC (baseline)", direct, directWall), aggregate("full path (edge+Redis+pool)", full, fullWall)];
  const table: Table = {
    title: `${p.concurrency} concurrent streams × ${p.tokens} tokens`,
    columns: ["path", "TTFT p50 ms", "TTFT p99 ms", "ITL p50 ms", "ITL p99 ms", "tokens/s", "errors"],
    rows: rows.map((r) => [r.label, r.ttft_p50_ms, r.ttft_p99_ms, r.itl_p50_ms, r.itl_p99_ms, r.tokens_per_s, r.errors]),
  };
  return { rows, table };
}

/** A short distinct prompt per request (token ids of ordinary text-range tokens). */
function promptIds(i: number): number[] {
  return Array.from({ length: 32 }, (_, k) => 1000 + ((i * 37 + k * 11) % 5000));
}
