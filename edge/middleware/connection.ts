// Acquires the request's Redis connection and gives it back when the response
// is done. A streaming handler sets `streaming` and releases it itself when
// the stream ends (on Workers that closes the per-request socket).
import type { MiddlewareHandler } from "hono";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";
import { EdgeError } from "../errors.js";

export function connection(deps: ResolvedDeps): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    let lease;
    try {
      lease = await deps.redis();
    } catch (err) {
      deps.logger.error({ err: (err as Error).message }, "redis connection failed");
      throw new EdgeError("service_unavailable", "The service is temporarily unavailable.", { retryAfterS: 1 });
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      lease.release();
    };
    c.set("conn", lease.redis);
    c.set("releaseConn", release);
    c.set("streaming", false);
    try {
      await next();
    } finally {
      if (!c.get("streaming")) release();
    }
  };
}
