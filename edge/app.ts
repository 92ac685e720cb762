// The edge as a Hono app, identical on Node and in workerd: no runtime
// imports here (no node:*, no @hono/node-server). Everything
// runtime-specific arrives through EdgeDeps, built by an entry file.
import { Hono } from "hono";
import { openAdmission } from "./admission.js";
import { EdgeConfigSchema, silentLogger } from "./config.js";
import type { EdgeDeps, EdgeEnv, ResolvedDeps } from "./deps.js";
import { EdgeError, errorResponse } from "./errors.js";
import { auth } from "./middleware/auth.js";
import { connection } from "./middleware/connection.js";
import { observe } from "./middleware/observe.js";
import { EdgeLifecycle } from "./lifecycle.js";
import { noopEdgeMetrics } from "./metrics.js";
import { requestId } from "./middleware/request-id.js";
import { ModelRegistry } from "./models.js";
import { honoSse } from "./streams/sse-sink.js";
import { webRequestIo } from "./api/request-io.js";
import { completionRoutes } from "./routes/completions.js";
import { healthRoutes } from "./routes/health.js";
import { messagesRoutes } from "./routes/messages.js";
import { modelRoutes } from "./routes/models.js";
import { responsesRoutes } from "./routes/responses.js";
import { adminRoutes } from "./admin/routes.js";

export type { EdgeDeps, EdgeEnv, RedisLease, ResolvedDeps } from "./deps.js";
export type { EdgeConfig, EdgeConfigInput, Logger } from "./config.js";
export type { EdgeMetrics, FinishedRequest } from "./metrics.js";

/** Fills in EdgeDeps defaults (and validates the config: a bad value throws here, at startup). */
export function resolveDeps(deps: EdgeDeps): ResolvedDeps {
  const config = EdgeConfigSchema.parse(deps.config ?? {});
  const now = deps.now ?? (() => Date.now());
  return {
    redis: deps.redis,
    streams: deps.streams,
    now,
    newId: deps.newId ?? (() => crypto.randomUUID().replaceAll("-", "")),
    waitUntil: deps.waitUntil,
    config,
    logger: deps.logger ?? silentLogger,
    admission: deps.admission ?? openAdmission,
    models: new ModelRegistry(config.modelCacheMs, now),
    metrics: deps.metrics ?? noopEdgeMetrics,
    lifecycle: deps.lifecycle ?? new EdgeLifecycle(),
    sse: deps.sse ?? honoSse,
    io: deps.io ?? webRequestIo,
    bodyCheck: deps.bodyCheck,
  };
}

const ROUTES: Record<string, string> = {
  "/v1/chat/completions": "POST",
  "/v1/completions": "POST",
  "/v1/models": "GET",
  "/v1/responses": "POST",
  "/v1/messages": "POST",
  "/v1/messages/count_tokens": "POST",
};

/** The methods a known path takes ("GET, DELETE"), or undefined for an unknown path. */
function allowedMethods(path: string): string | undefined {
  if (ROUTES[path]) return ROUTES[path];
  if (path.startsWith("/v1/models/")) return "GET";
  if (/^\/v1\/responses\/[^/]+\/input_items$/.test(path)) return "GET";
  if (/^\/v1\/responses\/[^/]+$/.test(path)) return "GET, DELETE";
  return undefined;
}

export function createApp(input: EdgeDeps): Hono<EdgeEnv> {
  const deps = resolveDeps(input);
  const app = new Hono<EdgeEnv>();

  app.onError((err, c) => errorResponse(c, err, deps.logger));
  app.notFound((c) => errorResponse(c, new EdgeError("not_found", `Invalid URL (${c.req.method} ${c.req.path})`), deps.logger));

  app.use("*", requestId(deps));
  app.use("*", observe(deps));
  // Wrong method on a known path: 405 before auth, like any router would.
  app.use("*", async (c, next) => {
    const allowed = allowedMethods(c.req.path);
    const methods = allowed?.split(", ") ?? [];
    if (allowed && !methods.includes(c.req.method) && !(methods.includes("GET") && c.req.method === "HEAD")) {
      throw new EdgeError("method_not_allowed", `Method ${c.req.method} is not allowed on ${c.req.path}; use ${allowed}.`, {
        headers: { allow: allowed },
      });
    }
    await next();
  });
  app.route(
    "/admin/v1",
    adminRoutes({
      adminToken: deps.config.adminToken,
      now: deps.now,
      async withRedis(fn) {
        const lease = await deps.redis();
        try {
          return await fn(lease.redis);
        } finally {
          lease.release();
        }
      },
    }),
  );
  app.route("/", healthRoutes(deps));
  // A draining edge takes no new requests (open ones finish): clients retry on another edge.
  app.use("/v1/*", async (_c, next) => {
    if (deps.lifecycle.draining) {
      throw new EdgeError("service_unavailable", "This edge is shutting down; retry the request.", {
        retryAfterS: 1,
        headers: { connection: "close" },
      });
    }
    await next();
  });
  app.use("/v1/*", connection(deps), auth(deps));
  app.route("/v1", modelRoutes(deps));
  app.route("/v1", completionRoutes(deps));
  app.route("/v1", responsesRoutes(deps));
  app.route("/v1", messagesRoutes(deps));
  return app;
}
