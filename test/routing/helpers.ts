// Helpers for the routing/failure tests: simulated workers as real processes,
// a pool per test with quiet logs, and running many streams at the Redis level
// (the edge's side of the contract) with one blocking connection per stream.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import type { Redis } from "ioredis";
import type { RedisServer } from "../helpers/redis.js";
import { targetOf, type TestRedis } from "../helpers/topology.js";
import { freePort } from "../helpers/redis.js";
import { startPool, type PoolHandle } from "../../pool/main.js";
import type { PoolConfigInput } from "../../pool/config.js";
import type { Job, ResponseEvent } from "../../contract/queue/messages.js";
import { collect, enqueue, readUntilTerminal, type StreamEntry } from "../pool/helpers.js";
import { loadSimTokenizer } from "../../sim/tokenizer.js";
import { expectedGeneration, textModelFor } from "../../sim/text-model.js";

export interface SimProcess {
  address: string;
  port: number;
  proc: ChildProcess;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
}

/** `node --import tsx sim/main.ts --port N ...`, resolved on its ready line. */
export async function spawnSim(args: string[] = []): Promise<SimProcess> {
  const port = await freePort();
  const proc = spawn(process.execPath, ["--import", "tsx", "sim/main.ts", "--port", String(port), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.on("error", () => {});
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on("line", (l) => stderr.push(l));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`sim did not start: ${stderr.join("\n")}`)), 30_000);
    createInterface({ input: proc.stdout! }).on("line", (l) => {
      if (l.startsWith("{") && l.includes('"ready"')) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`sim exited with ${code}: ${stderr.join("\n")}`));
    });
  });
  return {
    address: `127.0.0.1:${port}`,
    port,
    proc,
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = once(proc, "exit");
      proc.kill("SIGKILL");
      await gone;
    },
  };
}

export async function quietPool(redis: RedisServer | TestRedis, cfg: Partial<PoolConfigInput> & { workers: string[] }): Promise<PoolHandle> {
  return startPool({ ...targetOf(redis), logLevel: (process.env.TEST_LOG as "info" | undefined) ?? "silent", ...cfg });
}

export interface StreamRun {
  job: Job;
  entries: StreamEntry[];
  events: ResponseEvent[];
  text: string;
  ids: number[];
  done: Extract<ResponseEvent, { type: "done" }> | undefined;
  error: Extract<ResponseEvent, { type: "error" }> | undefined;
}

/**
 * Starts a reader per job, then enqueues them all. `onEntry(i, entry, count)` sees each
 * stream entry as it arrives. Resolves with every stream's result.
 */
export async function runStreams(
  redis: RedisServer | TestRedis,
  r: Redis,
  jobs: Job[],
  onEntry?: (i: number, e: StreamEntry, count: number) => void,
  timeoutMs = 30_000,
): Promise<StreamRun[]> {
  const conns = jobs.map(() => redis.client());
  try {
    const readers = jobs.map((job, i) => {
      let n = 0;
      return readUntilTerminal(conns[i], job.id, timeoutMs, (e) => onEntry?.(i, e, ++n));
    });
    for (const job of jobs) await enqueue(r, job);
    const results = await Promise.all(readers);
    return results.map((entries, i) => {
      const events = entries.map((e) => e.event);
      const c = collect(events).get(0);
      const last = events[events.length - 1];
      return {
        job: jobs[i],
        entries,
        events,
        text: c?.text ?? "",
        ids: c?.ids ?? [],
        done: last?.type === "done" ? last : undefined,
        error: last?.type === "error" ? last : undefined,
      };
    });
  } finally {
    for (const c of conns) c.disconnect();
  }
}

/** What the simulated worker generates for a completion prompt (the fault-free answer). */
export function expectedFor(job: Job): { ids: number[]; text: string; completionTokens: number } {
  const tok = loadSimTokenizer();
  const model = textModelFor(tok);
  const exp = expectedGeneration(model, tok.encode(job.prompt!), {
    seed: job.sampling.seed ?? 0,
    maxNewTokens: job.sampling.max_tokens!,
    stop: job.sampling.stop,
  });
  return { ids: exp.outputIds, text: tok.tokenizer.decode(exp.outputIds, { skip_special_tokens: true }), completionTokens: exp.rawOutputIds.length };
}

/** Resolves when `pred` becomes true, re-checked on every `event` of `emitter`; rejects after timeoutMs. */
export function until(emitter: NodeJS.EventEmitter, event: string, pred: () => boolean, timeoutMs = 10_000, what = event): Promise<void> {
  return new Promise((resolve, reject) => {
    if (pred()) return resolve();
    const on = () => {
      if (!pred()) return;
      cleanup();
      resolve();
    };
    const t = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(t);
      emitter.off(event, on);
    };
    emitter.on(event, on);
  });
}

export const epochMs = () => performance.timeOrigin + performance.now();

export function pct(sorted: number[], p: number): number {
  const s = [...sorted].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
