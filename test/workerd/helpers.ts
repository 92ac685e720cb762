// Runs the edge's Workers build in real workerd: the bundle is what
// `wrangler deploy` would upload (built with `wrangler deploy --dry-run`, so
// the same nodejs_compat polyfills and module rules apply), served by
// Miniflare's API on a real local port, so tests talk plain HTTP to it (and a
// dropped fetch is a real TCP disconnect that workerd must notice).
// ioredis crashes inside @cloudflare/vitest-pool-workers, hence not that.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { Miniflare, type WorkerOptions } from "miniflare";
import type { Cluster, Redis } from "ioredis";
import { post as postOnce } from "../edge/helpers.js";

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

/** Same values as wrangler.toml (asserted by the build: it reads them from there). */
export const COMPAT_DATE = "2026-04-01";
export const COMPAT_FLAGS = ["nodejs_compat", "enable_request_signal"];

export interface WorkerBuild {
  dir: string;
  /** the bundled entry module */
  script: string;
  remove(): Promise<void>;
}

/** Bundles edge/entry-worker.ts with wrangler (offline, no login, no telemetry). */
export async function buildWorker(): Promise<WorkerBuild> {
  const dir = await mkdtemp(join(tmpdir(), "sg-worker-"));
  await run(process.execPath, [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", dir], {
    cwd: ROOT,
    // Offline: no telemetry, no update check (the banner does it), no prompts.
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", WRANGLER_LOG: "error", CI: "1" },
  });
  const toml = await readFile(join(ROOT, "wrangler.toml"), "utf8");
  if (!toml.includes(`compatibility_date = "${COMPAT_DATE}"`)) throw new Error("wrangler.toml compatibility_date changed: update test/workerd/helpers.ts");
  return { dir, script: join(dir, "entry-worker.js"), remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface Workerd {
  mf: Miniflare;
  /** base URL of the first worker ("http://127.0.0.1:<port>") */
  url: string;
  /** base URL of the named copy of the Worker (its own port) */
  urlOf(name: string): Promise<string>;
  /** everything the Worker wrote to stdout/stderr (console.*) */
  logs(): string;
  stop(): Promise<void>;
}

export interface WorkerSpec {
  name: string;
  /** vars and secrets, exactly as wrangler would bind them (strings) */
  bindings: Record<string, string>;
}

/** Starts workerd with one or more copies of the Worker (different bindings); the first answers on `url`. */
export async function startWorkerd(build: WorkerBuild, workers: WorkerSpec[]): Promise<Workerd> {
  let out = "";
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    workers: workers.map(
      (w): WorkerOptions => ({
        name: w.name,
        modules: true,
        scriptPath: build.script,
        modulesRoot: build.dir,
        compatibilityDate: COMPAT_DATE,
        compatibilityFlags: COMPAT_FLAGS,
        bindings: w.bindings,
        // Every copy also listens on its own port (urlOf), for plain HTTP to it.
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      }),
    ),
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.on("data", (d: Buffer) => (out += d));
      stderr.on("data", (d: Buffer) => (out += d));
    },
  });
  const url = (await mf.ready).origin;
  return { mf, url, urlOf: async (name) => (await mf.unsafeGetDirectURL(name)).origin, logs: () => out, stop: () => mf.dispose() };
}

/** The Worker's own Redis connections (edge/worker/redis.ts names them), on every node of a cluster. */
export async function workerConnections(r: Redis): Promise<number> {
  const nodes = r.isCluster ? (r as unknown as Cluster).nodes("all") : [r];
  let n = 0;
  for (const node of nodes) {
    const list = (await node.client("LIST")) as string;
    n += list.split("\n").filter((l) => l.includes(" name=sg-edge-worker ")).length;
  }
  return n;
}

/** Polls until the Worker holds no Redis connection; throws with the count if it still does after `ms`. */
export async function expectNoWorkerConnections(r: Redis, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const n = await workerConnections(r);
    if (n === 0) return;
    if (Date.now() > until) throw new Error(`the Worker still holds ${n} Redis connection(s) after ${ms} ms`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** Polls `cond` (a real condition, e.g. a Redis key) until true, or throws after `ms`. */
export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 5));
  }
}

/**
 * POST to workerd on a connection of its own. workerd may close an idle
 * keep-alive connection just as fetch reuses it for the next request, and a
 * POST is not retried ("other side closed"): a race of the local server, not
 * of the edge, that once failed CI; behind Cloudflare clients never reach
 * workerd's sockets.
 */
export function post(url: string, key: string | null, body: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return postOnce(url, key, body, { connection: "close", ...headers }, signal);
}
