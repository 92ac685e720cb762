// Cloudflare Workers entry (workerd, `compatibility_flags = ["nodejs_compat",
// "enable_request_signal"]`).
//
// - Config: the Worker's vars and secrets, parsed once per isolate with the
//   edge's one env schema (edge/env.ts; same names as on Node).
//   A bad value answers every request with a 500 that names the variable
//   (and logs it once), rather than half-working.
// - Redis: workerd cannot reuse a socket across requests, so each request
//   opens its own connection (worker/redis.ts: one server, or a Cluster client
//   with REDIS_CLUSTER_NODES), which also carries that request's XREAD BLOCK
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
import { openAdmission } from "./admission.js";
import { createApp } from "./app.js";
import type { EdgeDeps } from "./deps.js";
import { quotaAdmission } from "./quota-admission.js";
import { PerRequestStreamReader } from "./streams/per-request.js";
import { parseEdgeEnv } from "./env.js";
import { newRequestRedis, type WorkerRedisTarget } from "./worker/redis.js";

/** Per-request bookkeeping: the request's ExecutionContext and its open connections. */
interface RequestScope {
  ctx: ExecutionContext;
  open: number;
  /** resolves once `open` is back to 0 after the response was produced */
  idle?: () => void;
}
const scope = new AsyncLocalStorage<RequestScope>();

/** The Workers implementation of EdgeDeps (exported for tests that run it on Node). */
export function workerDeps(
  target: string | WorkerRedisTarget,
  config: EdgeDeps["config"],
  opts: { password?: string; admission?: EdgeDeps["admission"] } = {},
): EdgeDeps {
  const where: WorkerRedisTarget = typeof target === "string" ? { url: target } : target;
  return {
    async redis() {
      const s = scope.getStore();
      const redis = newRequestRedis({ ...where, ...(opts.password ? { password: opts.password } : {}) });
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
  const { env, redisUrl, redisClusterNodes, config } = parsed.value;
  let app: ReturnType<typeof createApp>;
  try {
    app = createApp(
      workerDeps({ url: redisUrl, clusterNodes: redisClusterNodes }, config, {
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
