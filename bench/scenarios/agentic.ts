// Scenario "agentic": routing policies side by side on a multi-turn agentic trace.
//
// Workload 1 (agentic): C conversations run concurrently; each is a loop of T turns
// where the next request = the whole history (a shared system prompt, every earlier
// user/tool message and assistant answer) + a new ~U-token tool output. Contexts grow
// to tens of thousands of tokens; a worker that still holds a conversation's KV only
// prefills the new part.
// Workload 2 (no shared prefix): single-turn requests with distinct long prompts,
// where cache affinity cannot help and only load balancing matters.
//
// For each policy: the same 4 simulated workers (separate processes, like `npm run dev`)
// with their caches flushed (FlushCache), a fresh pool configured with that policy, driven
// at the Redis level in-process (enqueue like the edge, read each response stream with
// blocking XREADs). Reported per policy: TTFT p50/p99 (enqueue -> first text), output
// and total tokens/s, and cache hit rate = cached_tokens / prompt_tokens (from usage).
//
// The sim's prefill speed is set so that prefilling 20k uncached tokens (2 s at 10k tok/s)
// costs visibly more than a cached turn (~1.5k new tokens, 0.15 s).
import type { ChildProcess } from "node:child_process";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { SingleBar, Presets } from "cli-progress";
import type { ChatMessage } from "../../contract/queue/messages.js";
import { flushCaches, job, request, rng, text, type Sample } from "./agentic-load.js";
import { startPool, type PoolHandle } from "../../pool/main.js";
import type { PolicyName } from "../../pool/routing/policies.js";
import { summarize, round } from "../lib/stats.js";
import { startRedisServer, startSimProcesses, stopChild } from "../../scripts/stack.js";
import type { Table } from "../lib/report.js";

export interface AgenticOptions {
  policies?: PolicyName[];
  workers?: number;
  conversations?: number;
  turns?: number;
  /** New tokens (roughly) per user/tool message. */
  turnTokens?: number;
  /** Shared system prompt (tokens, roughly): a hot prefix every conversation starts with. */
  systemTokens?: number;
  /** Answer length (explicit max_tokens, temperature 0). */
  maxTokens?: number;
  /** Tool time between turns: uniform in [0, thinkMs] (deterministic per conversation and turn). */
  thinkMs?: number;
  /** Conversation c starts at c x staggerMs (when not paced). */
  staggerMs?: number;
  /**
   * Pacing, so every policy is compared at the same offered load (equal throughput):
   * turn t of each conversation is sent at a random moment of the t-th period (so the
   * arrival order changes every round), or as soon as its previous answer arrived if
   * that is later. 0 = closed loop (think time only).
   */
  turnPeriodMs?: number;
  /** kv_aware's load weight (pool config routing.kvAlpha). */
  kvAlpha?: number;
  /** Workload 2: requests, prompt tokens and concurrency. */
  flatRequests?: number;
  flatTokens?: number;
  flatConcurrency?: number;
  /** Simulated worker timing. */
  prefillTokensPerS?: number;
  decodeMsPerToken?: number;
  decodeMsPerRunning?: number;
  kvCapacityTokens?: number;
  /** Use this Redis instead of starting a private redis-server. */
  redisUrl?: string;
  /** Show cli-progress bars (default true). */
  progress?: boolean;
  /** Diagnostics: called with each policy's pool right after it started. */
  onPool?: (pool: PoolHandle, policy: PolicyName, workload: string) => void;
}

export interface PolicyRow {
  workload: "agentic" | "no_shared_prefix";
  policy: PolicyName;
  requests: number;
  errors: number;
  ttft_p50_ms: number;
  ttft_p99_ms: number;
  output_tokens_per_s: number;
  total_tokens_per_s: number;
  cache_hit_rate: number;
  prompt_tokens: number;
  wall_s: number;
}

const DEFAULTS = {
  policies: ["round_robin", "load_aware", "session", "kv_aware"] as PolicyName[],
  workers: 4,
  conversations: 16,
  turns: 11,
  turnTokens: 1500,
  systemTokens: 4000,
  maxTokens: 48,
  thinkMs: 400,
  staggerMs: 100,
  turnPeriodMs: 2_500,
  kvAlpha: undefined as number | undefined,
  flatRequests: 256, // enough that TTFT p50 is stable (96 left it bimodal and noisy between runs)
  flatTokens: 2000,
  flatConcurrency: 16,
  prefillTokensPerS: 10_000,
  decodeMsPerToken: 8,
  decodeMsPerRunning: 0.35,
  kvCapacityTokens: 262_144,
};

function aggregate(workload: PolicyRow["workload"], policy: PolicyName, samples: Sample[], wallMs: number): PolicyRow {
  const ok = samples.filter((s) => !s.error);
  const ttft = summarize(ok.map((s) => s.ttftMs));
  const completion = ok.reduce((a, s) => a + s.completion, 0);
  const prompt = ok.reduce((a, s) => a + s.prompt, 0);
  const cached = ok.reduce((a, s) => a + s.cached, 0);
  return {
    workload,
    policy,
    requests: samples.length,
    errors: samples.length - ok.length,
    ttft_p50_ms: round(ttft.p50, 0),
    ttft_p99_ms: round(ttft.p99, 0),
    output_tokens_per_s: round((completion / wallMs) * 1000, 0),
    total_tokens_per_s: round(((completion + prompt) / wallMs) * 1000, 0),
    cache_hit_rate: round(prompt ? cached / prompt : 0, 3),
    prompt_tokens: prompt,
    wall_s: round(wallMs / 1000, 1),
  };
}

// ---- the workloads ----

async function agenticRun(r: Redis, conns: Redis[], o: typeof DEFAULTS, onDone: () => void): Promise<{ samples: Sample[]; wallMs: number }> {
  const system = `You are a coding agent. Follow the tool protocol exactly.\n${text(7, o.systemTokens)}`;
  const samples: Sample[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.conversations }, async (_, c) => {
      const history: ChatMessage[] = [
        { role: "system", content: system },
        { role: "user", content: `Task ${c}: fix the failing build in service ${c}. ${text(1000 + c, 200)}` },
      ];
      const r0 = rng(9000 + c);
      const paced = o.turnPeriodMs > 0;
      if (!paced) await new Promise((res) => setTimeout(res, c * o.staggerMs));
      for (let t = 0; t < o.turns; t++) {
        // The tool runs: until the turn's slot (paced), or a random think time (closed loop).
        const wait = paced ? t0 + (t + r0()) * o.turnPeriodMs - performance.now() : t > 0 ? r0() * o.thinkMs : 0;
        if (wait > 0) await new Promise((res) => setTimeout(res, wait));
        if (t > 0) history.push({ role: "user", content: `Tool output (step ${t} of task ${c}):\n${text(c * 100 + t, o.turnTokens)}` });
        const s = await request(r, conns[c], job({ messages: [...history], sampling: { max_tokens: o.maxTokens, temperature: 0, stop: [], n: 1 } }));
        samples.push(s);
        onDone();
        history.push({ role: "assistant", content: s.text });
      }
    }),
  );
  return { samples, wallMs: performance.now() - t0 };
}

async function flatRun(r: Redis, conns: Redis[], o: typeof DEFAULTS, salt: number, onDone: () => void): Promise<{ samples: Sample[]; wallMs: number }> {
  const samples: Sample[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.flatConcurrency }, async (_, w) => {
      for (let i = next++; i < o.flatRequests; i = next++) {
        // Distinct from the first token on: no prefix is shared with any other request.
        const content = `#${salt}-${i} ${text(50_000 + salt * 1000 + i, o.flatTokens)}`;
        const s = await request(r, conns[w], job({ messages: [{ role: "user", content }], sampling: { max_tokens: o.maxTokens, temperature: 0, stop: [], n: 1 } }));
        samples.push(s);
        onDone();
      }
    }),
  );
  return { samples, wallMs: performance.now() - t0 };
}

export async function runAgentic(opts: AgenticOptions = {}): Promise<{ table: Table; rows: PolicyRow[] }> {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & AgenticOptions;
  const children: ChildProcess[] = [];
  const rows: PolicyRow[] = [];
  const redisUrl = o.redisUrl ?? (await startRedisServer(children));
  const simArgs = [
    "--prefill-tokens-per-s", String(o.prefillTokensPerS),
    "--decode-ms-per-token", String(o.decodeMsPerToken),
    "--decode-ms-per-running", String(o.decodeMsPerRunning),
    "--kv-capacity-tokens", String(o.kvCapacityTokens),
  ];
  const { addrs: simAddrs } = await startSimProcesses(o.workers, simArgs, children);
  const sims = { addresses: simAddrs };
  const r = new Redis(redisUrl);
  const conns = Array.from({ length: Math.max(o.conversations, o.flatConcurrency) }, () => new Redis(redisUrl));
  const show = o.progress !== false;
  // One bar per (workload, policy) phase; on a non-TTY it prints a line every few seconds.
  const newBar = (label: string, total: number): SingleBar | undefined => {
    if (!show) return undefined;
    const b = new SingleBar({ format: `${label} [{bar}] {value}/{total} requests`, hideCursor: true, noTTYOutput: true, notTTYSchedule: 5000 }, Presets.shades_classic);
    b.start(total, 0);
    return b;
  };
  let bar: SingleBar | undefined;
  let pool: PoolHandle | undefined;
  try {
    for (const [wi, workload] of (["agentic", "no_shared_prefix"] as const).entries()) {
      for (const policy of o.policies) {
        await flushCaches(sims.addresses);
        pool = await startPool({ redisUrl, workers: sims.addresses, routingPolicy: policy, poolId: `bench-${policy}`, logLevel: "error",
          ...(o.kvAlpha !== undefined ? { routing: { kvAlpha: o.kvAlpha } } : {}),
        });
        o.onPool?.(pool, policy, workload);
        const total = workload === "agentic" ? o.conversations * o.turns : o.flatRequests;
        bar = newBar(`${workload.padEnd(16)} ${policy.padEnd(12)}`, total);
        const res =
          workload === "agentic"
            ? await agenticRun(r, conns, o, () => bar?.increment())
            : await flatRun(r, conns, o, wi * 100 + o.policies.indexOf(policy), () => bar?.increment());
        bar?.stop();
        bar = undefined;
        await pool.stop();
        pool = undefined;
        const row = aggregate(workload, policy, res.samples, res.wallMs);
        const firstErr = res.samples.find((s) => s.error)?.error;
        if (firstErr) console.error(`${workload}/${policy}: ${row.errors} errors, first: ${firstErr}`);
        rows.push(row);
      }
    }
  } finally {
    bar?.stop();
    await pool?.stop().catch(() => {});
    r.disconnect();
    for (const c of conns) c.disconnect();
    for (const c of children.reverse()) await stopChild(c);
  }
  return { table: agenticTable(rows, o), rows };
}

export function agenticTable(rows: PolicyRow[], o: typeof DEFAULTS): Table {
  const notes: string[] = [];
  for (const workload of ["agentic", "no_shared_prefix"] as const) {
    const ws = rows.filter((x) => x.workload === workload);
    const kv = ws.find((x) => x.policy === "kv_aware");
    const rr = ws.find((x) => x.policy === "round_robin");
    if (!kv) continue;
    if (workload === "agentic" && rr) {
      notes.push(
        `agentic: kv_aware TTFT p50 is ${round(rr.ttft_p50_ms / kv.ttft_p50_ms, 2)}x better than round_robin (goal >= 2x); ` +
          `total tokens/s ratio kv_aware/round_robin = ${round(kv.total_tokens_per_s / rr.total_tokens_per_s, 2)}.`,
      );
    }
    if (workload === "no_shared_prefix") {
      const best = Math.min(...ws.map((x) => x.ttft_p50_ms));
      const bestTput = Math.max(...ws.map((x) => x.output_tokens_per_s));
      notes.push(
        `no shared prefix: kv_aware TTFT p50 is ${round(kv.ttft_p50_ms / best, 2)}x the best policy's, ` +
          `throughput ${round(kv.output_tokens_per_s / bestTput, 3)}x the best (goal: within 10%).`,
      );
    }
  }
  notes.push(
    `Setup: ${o.workers} simulated workers (one process each; prefill ${o.prefillTokensPerS} tok/s, decode ${o.decodeMsPerToken} ms + ` +
      `${o.decodeMsPerRunning} ms/running, KV ${o.kvCapacityTokens} tokens each), caches flushed and a fresh pool per policy. ` +
      `Agentic: ${o.conversations} concurrent conversations x ${o.turns} turns, +~${o.turnTokens} tokens per turn after a shared ` +
      `~${o.systemTokens}-token system prompt, ${o.maxTokens}-token answers, ${o.turnPeriodMs > 0 ? `one turn per conversation at a random moment of every ${o.turnPeriodMs} ms period (or when the previous answer is in, if later: the same offered load for every policy)` : `0-${o.thinkMs} ms tool time between turns`}. No shared prefix: ${o.flatRequests} requests of ` +
      `~${o.flatTokens} distinct tokens, ${o.flatConcurrency} in flight. TTFT = enqueue -> first text; cache hit = cached_tokens / prompt_tokens.`,
    "No gateway CPU column: the pool runs inside the bench's own process, which also drives Redis like an edge, so /proc cannot tell their CPU apart.",
  );
  return {
    title: "Routing policies: agentic multi-turn trace and a no-shared-prefix workload",
    columns: ["workload", "policy", "requests", "errors", "TTFT p50 ms", "TTFT p99 ms", "output tok/s", "total tok/s", "cache hit", "wall s"],
    rows: rows.map((x) => [x.workload, x.policy, x.requests, x.errors, x.ttft_p50_ms, x.ttft_p99_ms, x.output_tokens_per_s, x.total_tokens_per_s, x.cache_hit_rate, x.wall_s]),
    notes,
  };
}

// `npx tsx bench/scenarios/agentic.ts`: run it on its own and print the table.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { toMarkdown } = await import("../lib/report.js");
  const quick = process.argv.includes("--quick");
  runAgentic(quick ? { conversations: 4, turns: 3, flatRequests: 8, flatConcurrency: 4, policies: ["round_robin", "kv_aware"] } : {}).then(
    ({ table }) => {
      console.log("\n" + toMarkdown([table]));
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
