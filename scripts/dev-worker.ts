// `npm run dev:worker`: the local stack of `npm run dev` (private redis-server
// unless REDIS_URL is set, SIM_WORKERS simulated workers, the pool, the Node
// edge on EDGE_PORT) plus the edge as a Cloudflare Worker in local workerd
// (`wrangler dev` on WORKER_PORT) against the same Redis. Prints both URLs, a
// demo API key and a curl example; Ctrl-C stops it all.
//
// wrangler runs offline: no login, no telemetry (WRANGLER_SEND_METRICS=false),
// local mode only. Vars go in with --var (REDIS_URL, EDGE_KEEPALIVE_MS...), as
// `wrangler deploy` would bind them from wrangler.toml and secrets.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { z } from "zod";
import { envInt, envVar } from "../contract/env.js";
import { seedApiKey } from "../edge/tenants.js";
import { freePort, startStack, stopChild, type Stack } from "./stack.js";

const ROOT = resolve(import.meta.dirname, "..");

export interface WranglerDevOptions {
  /** the Worker's vars and secrets (REDIS_URL is required) */
  vars: Record<string, string>;
  /** 0 = a free port */
  port?: number;
  /** called with each output line of wrangler/workerd */
  onLine?: (line: string) => void;
  /** how long to wait for the Worker to answer (default 60 s) */
  readyTimeoutMs?: number;
}

export interface WranglerDev {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Environment that keeps wrangler off the network: no telemetry, no update check, no Request.cf download, no login. */
export function offlineWranglerEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    // The banner is what asks the npm registry for a newer wrangler.
    WRANGLER_HIDE_BANNER: "true",
    // Miniflare would download the Request.cf placeholder from workers.cloudflare.com.
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    // Never prompt (no TTY games) and never fall back to remote mode.
    CI: "1",
    // A stale token in the environment must not make wrangler talk to the API.
    CLOUDFLARE_API_TOKEN: "",
    CLOUDFLARE_ACCOUNT_ID: "",
  };
}

/**
 * Starts `wrangler dev` (local workerd) for wrangler.toml on 127.0.0.1 and
 * resolves once the Worker answers HTTP (any status: a request reached the
 * Worker's code). Rejects if wrangler exits first.
 */
export async function startWranglerDev(opts: WranglerDevOptions): Promise<WranglerDev> {
  const port = opts.port || (await freePort());
  const inspectorPort = await freePort();
  const args = [
    resolve(ROOT, "node_modules/wrangler/bin/wrangler.js"),
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
  ];
  for (const [k, v] of Object.entries(opts.vars)) args.push("--var", `${k}:${v}`);
  const child = spawn(process.execPath, args, { cwd: ROOT, env: offlineWranglerEnv(), stdio: ["ignore", "pipe", "pipe"], detached: false });
  const onLine = opts.onLine ?? (() => {});
  for (const s of [child.stdout!, child.stderr!]) createInterface({ input: s }).on("line", onLine);
  const exited = once(child, "exit").then(([code, signal]) => {
    throw new Error(`wrangler dev exited (${signal ?? code}) before the Worker was ready`);
  });
  exited.catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child);
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  try {
    // Poll the real server (not a sleep): the first HTTP answer means workerd runs our code.
    for (;;) {
      const answered = await Promise.race([
        fetch(url + "/v1/models").then(
          (r) => (void r.body?.cancel(), true),
          () => false,
        ),
        exited,
      ]);
      if (answered) break;
      if (Date.now() > deadline) throw new Error(`wrangler dev did not answer on ${url} within ${opts.readyTimeoutMs ?? 60_000} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, child, stop };
}

const Env = z.object({
  REDIS_URL: z.string().url().optional(),
  EDGE_PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  WORKER_PORT: z.coerce.number().int().min(1).max(65535).default(8787),
  SIM_WORKERS: z.coerce.number().int().min(1).max(16).default(2),
  DEMO_API_KEY: z.string().min(8).optional(),
  SIM_DECODE_MS: z.coerce.number().positive().default(20),
  /** the Worker's SSE keepalive interval (also how soon it notices a dropped client) */
  EDGE_KEEPALIVE_MS: envVar(envInt({ min: 1 }).default(15_000)),
  ADMIN_TOKEN: envVar(z.string().min(16).optional()),
});

async function main(): Promise<void> {
  const parsed = Env.safeParse(process.env);
  if (!parsed.success) {
    console.error("Bad environment for npm run dev:worker:\n" + z.prettifyError(parsed.error));
    process.exit(2);
  }
  const env = parsed.data;
  let stack: Stack | undefined;
  let worker: WranglerDev | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (!stopping) {
      stopping = true;
      console.log("[dev:worker] stopping…");
      await worker?.stop();
      await stack?.stop();
    }
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  try {
    stack = await startStack({
      redisUrl: env.REDIS_URL,
      simWorkers: env.SIM_WORKERS,
      edgePort: env.EDGE_PORT,
      simArgs: ["--decode-ms-per-token", String(env.SIM_DECODE_MS)],
      onLine: (name, line) => console.log(`[${name}] ${line}`),
    });
    worker = await startWranglerDev({
      port: env.WORKER_PORT,
      vars: {
        REDIS_URL: stack.redisUrl,
        EDGE_KEEPALIVE_MS: String(env.EDGE_KEEPALIVE_MS),
        ...(env.ADMIN_TOKEN ? { ADMIN_TOKEN: env.ADMIN_TOKEN } : {}),
      },
      onLine: (line) => line.trim() && console.log(`[worker] ${line}`),
    });
    const apiKey = env.DEMO_API_KEY ?? `sk-demo-${randomBytes(18).toString("base64url")}`;
    const redis = new Redis(stack.redisUrl);
    await seedApiKey(redis, { tenantId: "demo", tenantName: "Demo tenant", key: apiKey });
    redis.disconnect();
    const res = await fetch(`${worker.url}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
    const models = (await res.json()) as { data?: { id: string }[]; error?: { message: string } };
    if (!res.ok) throw new Error(`the Worker answered ${res.status}: ${models.error?.message ?? "?"}`);
    const model = models.data?.[0]?.id ?? "qwen3-sim";
    console.log(`
speedgate is running, its edge twice over the same Redis${env.REDIS_URL ? "" : ` (private redis-server at ${stack.redisUrl})`}:
  Worker (workerd, wrangler dev) : ${worker.url}/v1
  Node edge                      : ${stack.baseUrl}/v1
  API key  : ${apiKey}
  model    : ${model}
  workers  : ${stack.workerAddrs.join(", ")}

Try the Worker:
  curl -N ${worker.url}/v1/chat/completions \\
    -H "Authorization: Bearer ${apiKey}" -H "Content-Type: application/json" \\
    -d '{"model":"${model}","stream":true,"messages":[{"role":"user","content":"Hello!"}]}'

Ctrl-C stops everything.
`);
  } catch (err) {
    console.error(`[dev:worker] ${err instanceof Error ? err.message : err}`);
    await shutdown(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
