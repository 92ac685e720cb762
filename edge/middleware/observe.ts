// Starts each request's RequestObs and finishes it when the response is
// complete: one metrics record and one structured access-log line per
// request (requestId, tenant, model, route, status, duration; never the API
// key or any prompt/completion text). SSE responses are finished by the relay
// when the stream ends (obs.deferred).
import type { MiddlewareHandler } from "hono";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";
import { EdgeError, UpstreamError, isRedisUnavailable } from "../errors.js";
import { RequestObs, routeLabel, type FinishedRequest } from "../metrics.js";

export function observe(deps: ResolvedDeps): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const onFinish = (r: FinishedRequest) => {
      try {
        deps.metrics.requestFinished(r);
      } catch (err) {
        deps.logger.error({ err: (err as Error).message }, "metrics failed");
      }
      const line: Record<string, unknown> = {
        requestId: c.get("requestId"),
        tenant: r.tenant,
        model: r.model,
        method: r.method,
        route: r.route,
        status: r.status,
        ms: Math.round(r.durationS * 1000),
      };
      if (r.errorType) line.error = r.errorType;
      if (r.stream) line.stream = true;
      if (r.resumed) line.resumed = true;
      if (r.ttftS !== null) line.ttftMs = Math.round(r.ttftS * 1000);
      if (r.usage) {
        line.promptTokens = r.usage.prompt_tokens;
        line.completionTokens = r.usage.completion_tokens;
        line.cachedTokens = r.usage.cached_tokens;
      }
      deps.logger.info(line, "request");
    };
    const obs = new RequestObs(routeLabel(c.req.path), c.req.method, deps.now(), deps.now, onFinish);
    c.set("obs", obs);
    await next();
    const err = c.error;
    if (err !== undefined && isRedisUnavailable(err)) deps.metrics.redisError("command");
    obs.tenant ??= c.get("tenant")?.id ?? null;
    if (!obs.deferred) obs.finish(c.res.status, errorType(err, c.res.status));
  };
}

function errorType(err: unknown, status: number): string | null {
  if (status < 400) return null;
  if (err instanceof EdgeError || err instanceof UpstreamError) return err.code ?? String(status);
  if (status === 499) return "client_disconnected";
  if (err !== undefined && isRedisUnavailable(err)) return "service_unavailable";
  if (status >= 500) return "internal_error";
  return null;
}
