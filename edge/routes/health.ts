// GET /healthz (the process is alive) and GET /readyz (it should get traffic:
// not draining, and Redis answers). Unauthenticated, outside /v1, for load
// balancers and Kubernetes probes.
import { Hono } from "hono";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";

const READY_TIMEOUT_MS = 1_000;

export function healthRoutes(deps: ResolvedDeps): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    if (deps.lifecycle.draining) return c.json({ status: "draining" }, 503);
    try {
      const lease = await deps.redis();
      try {
        let fail!: (e: Error) => void;
        const timeout = new Promise<never>((_, reject) => (fail = reject));
        const timer = setTimeout(() => fail(new Error("timeout")), READY_TIMEOUT_MS);
        await Promise.race([lease.redis.ping(), timeout]).finally(() => clearTimeout(timer));
      } finally {
        lease.release();
      }
      return c.json({ status: "ready" });
    } catch (err) {
      return c.json({ status: "redis_unavailable", error: (err as Error).message }, 503);
    }
  });
  return app;
}
