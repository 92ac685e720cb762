// Cloudflare Workers entry (workerd, `compatibility_flags = ["nodejs_compat",
// "enable_request_signal"]`). workerd cannot reuse a socket across requests,
// so each request opens its own Redis connection, which also carries that
// request's XREAD BLOCK (PerRequestStreamReader); it is closed when the
// response (stream included) ends. Cleanup after a disconnect goes through
// ctx.waitUntil, which the app finds on Hono's c.executionCtx.
//
// Not yet exercised under workerd by the tests here (they drive the same
// deps shape on Node in test/edge/per-request.test.ts).
import type { ExecutionContext } from "hono";
import { Redis } from "ioredis";
import { createApp } from "./app.js";
import { EdgeConfigSchema } from "./config.js";
import type { EdgeDeps } from "./deps.js";
import { PerRequestStreamReader } from "./streams/per-request.js";

export interface WorkerEnv {
  REDIS_URL: string;
  EDGE_KEEPALIVE_MS?: string;
  EDGE_QUEUE_DEADLINE_MS?: string;
  EDGE_MODEL_CACHE_MS?: string;
}


/** The Workers implementation of EdgeDeps (exported for tests that run it on Node). */
export function workerDeps(redisUrl: string, config: EdgeDeps["config"]): EdgeDeps {
  return {
    async redis() {
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true });
      redis.on("error", () => {});
      await redis.connect();
      return {
        redis,
        release() {
          void redis.quit().catch(() => redis.disconnect());
        },
      };
    },
    streams: new PerRequestStreamReader(),
    config,
  };
}

let app: ReturnType<typeof createApp> | undefined;

export default {
  fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Response | Promise<Response> {
    if (!app) {
      if (!env.REDIS_URL) throw new Error("REDIS_URL is not set for the edge Worker");
      const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
      // Parse once per isolate; a bad value fails every request loudly rather than half-working.
      const config = EdgeConfigSchema.parse({
        keepaliveMs: num(env.EDGE_KEEPALIVE_MS),
        queueDeadlineMs: num(env.EDGE_QUEUE_DEADLINE_MS),
        modelCacheMs: num(env.EDGE_MODEL_CACHE_MS),
      });
      app = createApp(workerDeps(env.REDIS_URL, config));
    }
    return app.fetch(request, env, ctx);
  },
};
