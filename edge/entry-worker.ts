// Cloudflare Workers entry (workerd, `compatibility_flags = ["nodejs_compat",
// "enable_request_signal"]`).
//
// - Config: the Worker's vars and secrets, parsed once per isolate with the
//   edge's one env schema (edge/env.ts; same names as on Node).
//   A bad value answers every request with a 500 that names the variable
//   (and logs it once), rather than half-working.
// - Redis: workerd cannot reuse a socket across requests, so each request
//   opens its own connection, which also carries that request's XREAD BLOCK
//   (PerRequestStreamReader); it is closed when the response (stream
//   included) ends. Nothing that does I/O is shared between requests.
// - Cancellation: the app listens to the request signal (only fires with
//   enable_request_signal, at the next write after the client left) and
//   schedules the cancel through ctx.waitUntil (Hono's c.executionCtx). This
//   entry also keeps the request's I/O context alive (ctx.waitUntil) until
//   every connection it opened is closed, so the relay's cleanup after a
//   disconnect — which ends on the request's own connection — always runs.
//   Limit (workerd 1.20260426, local): a client leaving a *non-streaming*
//   request is never noticed (nothing is written before the end, and the
//   signal does not fire); that request runs to its end (max_tokens) and then
//   frees its connection. test/workerd/streaming.test.ts pins this down.
import { AsyncLocalStorage } from "node:async_hooks";
import type { ExecutionContext } from "hono";
import { Redis, type RedisOptions } from "ioredis";
import { openAdmission } from "./admission.js";
import { createApp } from "./app.js";
import type { EdgeDeps } from "./deps.js";
import { quotaAdmission } from "./quota-admission.js";
import { PerRequestStreamReader } from "./streams/per-request.js";
import { parseEdgeEnv } from "./env.js";

/** Per-request bookkeeping: the request's ExecutionContext and its open connections. */
interface RequestScope {
  ctx: ExecutionContext;
  open: number;
  /** resolves once `open` is back to 0 after the response was produced */
  idle?: () => void;
}
const scope = new AsyncLocalStorage<RequestScope>();

/**
 * ioredis options for a connection that lives for one request. ioredis 5
 * runs on workerd's node:net/node:tls shims as is (socket options included);
 * these choices are about the request lifetime: connect explicitly (a dead
 * Redis is a 503 at once), never reconnect or retry (a retry timer would
 * outlive the request, whose I/O context is gone), skip the ready check (its
 * INFO would cost every request one more round trip), and bound the connect.
 */
export function workerRedisOptions(password?: string): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    connectTimeout: 5_000,
    autoResubscribe: false,
    enableReadyCheck: false,
    // Sent with the first command (no extra round trip); lets operators count
    // the Worker's connections in CLIENT LIST.
    connectionName: "sg-edge-worker",
    ...(password ? { password } : {}),
  };
}

/** The Workers implementation of EdgeDeps (exported for tests that run it on Node). */
export function workerDeps(redisUrl: string, config: EdgeDeps["config"], opts: { password?: string; admission?: EdgeDeps["admission"] } = {}): EdgeDeps {
  return {
    async redis() {
      const s = scope.getStore();
      const redis = new Redis(redisUrl, workerRedisOptions(opts.password));
      redis.on("error", () => {});
      if (s) s.open++;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        // Close the socket now: QUIT would need another round trip the
        // response no longer waits for.
        redis.disconnect();
        if (s && --s.open === 0) s.idle?.();
      };
      try {
        await redis.connect();
      } catch (err) {
        release();
        throw err;
      }
      return { redis, release };
    },
    streams: new PerRequestStreamReader(),
    config,
    admission: opts.admission,
  };
}

type Handler = (request: Request, env: unknown, ctx: ExecutionContext) => Response | Promise<Response>;
let handler: Handler | undefined;

function misconfigured(message: string): Handler {
  console.error(`speedgate edge Worker: bad configuration: ${message}`);
  const body = JSON.stringify({
    error: { message: `The edge Worker is misconfigured: ${message}`, type: "server_error", param: null, code: "misconfigured" },
  });
  return () => new Response(body, { status: 500, headers: { "content-type": "application/json" } });
}

/** Parses the bindings into the app (or into an error handler), once per isolate. */
export function buildHandler(rawEnv: unknown): Handler {
  // Same variables as the Node edge (edge/env.ts); a bad one names itself.
  const parsed = parseEdgeEnv((rawEnv ?? {}) as Record<string, unknown>, { runtime: "worker" });
  if (!parsed.ok) return misconfigured(parsed.error);
  const { env, redisUrl, config } = parsed.value;
  let app: ReturnType<typeof createApp>;
  try {
    app = createApp(
      workerDeps(redisUrl, config, {
        password: env.REDIS_PASSWORD,
        admission: env.EDGE_QUOTAS ? quotaAdmission() : openAdmission,
      }),
    );
  } catch (err) {
    return misconfigured(err instanceof Error ? err.message : String(err));
  }
  return (request, workerEnv, ctx) => {
    const s: RequestScope = { ctx, open: 0 };
    return scope.run(s, async () => {
      const res = await app.fetch(request, workerEnv, ctx);
      // A streamed body still holds its connection: keep the request's I/O
      // context alive until it is closed, even when the client is gone.
      if (s.open > 0) ctx.waitUntil(new Promise<void>((resolve) => (s.idle = resolve)));
      return res;
    });
  };
}

export default {
  fetch(request: Request, env: unknown, ctx: ExecutionContext): Response | Promise<Response> {
    handler ??= buildHandler(env);
    return handler(request, env, ctx);
  },
};
