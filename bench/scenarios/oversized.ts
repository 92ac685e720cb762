// Scenario "oversized": one tenant sends ten ~1 MB prompts at once (far over the
// model's context), while another tenant sends small streamed requests one after
// the other. Measures how fast the oversized prompts are refused (a 400
// context_length_exceeded), the small tenant's TTFT with and without the flood,
// and the pool process's CPU time and RSS (from /proc) during each phase.
//
// Prompt kinds: "words" (prose-like: random common words, ~4 bytes/token) and
// "x" (one character repeated: a single 1 MB pre-token, ~8 bytes/token, the
// costliest case for BPE). The flooding tenant sends from a thread of its own
// (bench/lib/flood-thread.ts), as it would from another machine.
import { startFloodThread, type PromptKind } from "../lib/flood-thread.js";
import { procSample } from "../lib/proc.js";
import { Redis } from "ioredis";
import { seedApiKey } from "../../edge/tenants.js";
import type { Table } from "../lib/report.js";
import { progress } from "../lib/progress.js";
import { percentile, round, summarize } from "../lib/stats.js";
import { timeSseStream } from "../lib/stream-load.js";

export interface OversizedParams {
  baseUrl: string;
  redisUrl: string;
  model: string;
  /** the pool process, for /proc CPU and RSS */
  poolPid?: number;
  /** oversized prompts per flood (default 10) */
  flood?: number;
  /** prompt size in bytes (default 1 MiB) */
  bytes?: number;
  kinds?: PromptKind[];
  /** small requests measured without a flood (default 12) */
  quiet?: number;
  /** floods per prompt kind, the small tenant measured across all of them (default 3) */
  rounds?: number;
}

export interface OversizedRow {
  kind: string;
  refusals: number;
  statuses: Record<string, number>;
  /** one oversized prompt at a time, nothing else in flight */
  alone_refusal_p50_ms: number;
  refusal_p50_ms: number;
  refusal_max_ms: number;
  small_requests: number;
  small_ttft_p50_ms: number;
  small_ttft_p90_ms: number;
  small_ttft_max_ms: number;
  pool_cpu_ms: number;
  pool_cpu_ms_per_request: number;
  pool_rss_peak_mb: number;
}

export async function runOversized(p: OversizedParams): Promise<{ rows: OversizedRow[]; table: Table }> {
  const flood = p.flood ?? 10;
  const bytes = p.bytes ?? 1 << 20;
  const kinds = p.kinds ?? ["words", "x"];
  const quiet = p.quiet ?? 12;
  const rounds = p.rounds ?? 3;
  const redis = new Redis(p.redisUrl);
  const stamp = Date.now();
  const floodKey = `sk-flood-${stamp}`;
  const smallKey = `sk-small-${stamp}`;
  await seedApiKey(redis, { tenantId: "flood", tenantName: "Flooder", key: floodKey });
  await seedApiKey(redis, { tenantId: "small", tenantName: "Small requests", key: smallKey });
  redis.disconnect();
  const url = `${p.baseUrl}/v1/chat/completions`;
  let smallSeq = 0;
  const small = () =>
    timeSseStream(url, smallKey, {
      model: p.model,
      stream: true,
      max_tokens: 16,
      temperature: 0,
      messages: [{ role: "user", content: `Say something short. (#${smallSeq++})` }],
    });

  // Warm-up, then the small tenant alone.
  for (let i = 0; i < 3; i++) await small();
  const rows: OversizedRow[] = [];
  const ALONE = 5;
  const bar = progress("oversized prompts", quiet + kinds.length * (flood * rounds + ALONE), "requests");
  {
    const before = procSample(p.poolPid);
    const samples = [];
    for (let i = 0; i < quiet; i++) {
      samples.push(await small());
      bar.increment();
    }
    const after = procSample(p.poolPid);
    const ok = samples.filter((s) => !s.error);
    const t = summarize(ok.map((s) => s.ttftMs));
    const cpu = before && after ? after.cpuMs - before.cpuMs : NaN;
    rows.push({
      kind: "none (small requests alone)",
      refusals: 0,
      statuses: {},
      alone_refusal_p50_ms: NaN,
      refusal_p50_ms: NaN,
      refusal_max_ms: NaN,
      small_requests: samples.length,
      small_ttft_p50_ms: round(t.p50),
      small_ttft_p90_ms: round(percentile(ok.map((s) => s.ttftMs).sort((a, b) => a - b), 90)),
      small_ttft_max_ms: round(Math.max(...ok.map((s) => s.ttftMs))),
      pool_cpu_ms: round(cpu, 0),
      pool_cpu_ms_per_request: round(cpu / samples.length, 1),
      pool_rss_peak_mb: round(after?.rssMb ?? NaN, 0),
    });
  }

  const floodThread = startFloodThread();
  const send = (kind: PromptKind, mode: "alone" | "flood", count?: number) =>
    floodThread.run({ url, apiKey: floodKey, model: p.model, bytes, bodies: flood, salt: stamp, kind, mode, count });
  try {
    for (const kind of kinds) {
      const alone = await send(kind, "alone", ALONE);
      bar.increment(ALONE);
      const before = procSample(p.poolPid);
      let rssPeak = before?.rssMb ?? NaN;
      const sampler = setInterval(() => {
        const s = procSample(p.poolPid);
        if (s) rssPeak = Math.max(rssPeak, s.rssMb);
      }, 50);
      const results = [];
      const smallSamples = [];
      for (let r = 0; r < rounds; r++) {
        let floodDone = false;
        const refusals = send(kind, "flood").finally(() => {
          floodDone = true;
          bar.increment(flood);
        });
        // The small tenant keeps sending while the flood is in progress (at least 3 requests).
        for (let i = 0; i < 3 || !floodDone; i++) smallSamples.push(await small());
        results.push(...(await refusals));
      }
      clearInterval(sampler);
      const after = procSample(p.poolPid);
      const statuses: Record<string, number> = {};
      for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      const ref = summarize(results.map((r) => r.ms));
      const ok = smallSamples.filter((s) => !s.error);
      const t = summarize(ok.map((s) => s.ttftMs));
      const cpu = before && after ? after.cpuMs - before.cpuMs : NaN;
      rows.push({
        kind,
        refusals: results.length,
        statuses,
        alone_refusal_p50_ms: round(summarize(alone.map((r) => r.ms)).p50),
        refusal_p50_ms: round(ref.p50),
        refusal_max_ms: round(Math.max(...results.map((r) => r.ms))),
        small_requests: smallSamples.length,
        small_ttft_p50_ms: round(t.p50),
        small_ttft_p90_ms: round(percentile(ok.map((s) => s.ttftMs).sort((a, b) => a - b), 90)),
        small_ttft_max_ms: round(Math.max(...ok.map((s) => s.ttftMs))),
        pool_cpu_ms: round(cpu, 0),
        pool_cpu_ms_per_request: round(cpu / (results.length + smallSamples.length), 1),
        pool_rss_peak_mb: round(rssPeak, 0),
      });
    }
  } finally {
    await floodThread.destroy();
  }
  bar.stop();
  const base = rows[0].small_ttft_p50_ms;
  const table: Table = {
    title: `Oversized prompts: ${Math.round(bytes / 1024)} KiB prompts, ${ALONE} one at a time, then ${rounds} floods of ${flood} at once from one tenant while another sends small streamed requests`,
    columns: ["flood kind", "refusals (status)", "one alone: refusal p50 ms", "ten at once: refusal p50 ms", "refusal max ms", "small requests", "small TTFT p50 ms", "small TTFT p90 ms", "small TTFT max ms", "TTFT p50 vs no flood", "pool CPU ms", "pool CPU ms / request", "pool RSS peak MB"],
    rows: rows.map((r) => [
      r.kind,
      r.refusals ? Object.entries(r.statuses).map(([s, n]) => `${n}× ${s}`).join(", ") : "-",
      Number.isNaN(r.alone_refusal_p50_ms) ? "-" : r.alone_refusal_p50_ms,
      Number.isNaN(r.refusal_p50_ms) ? "-" : r.refusal_p50_ms,
      Number.isNaN(r.refusal_max_ms) ? "-" : r.refusal_max_ms,
      r.small_requests,
      r.small_ttft_p50_ms,
      r.small_ttft_p90_ms,
      r.small_ttft_max_ms,
      `${round(r.small_ttft_p50_ms / base, 2)}×`,
      r.pool_cpu_ms,
      r.pool_cpu_ms_per_request,
      r.pool_rss_peak_mb,
    ]),
    notes: [
      "words: prose-like random common words; x: one character repeated (a single pre-token). Model context 32768 tokens; small requests: 16 output tokens, one at a time, sent while the flood is in progress.",
      "Pool CPU and RSS from /proc/<pool pid>; CPU per request divides the phase's pool CPU by the requests of that phase (refusals + small requests).",
    ],
  };
  return { rows, table };
}
