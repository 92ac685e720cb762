// The Prometheus implementation of EdgeMetrics (Node entry only: prom-client
// needs Node). Its own Registry per edge, so several edges in one test
// process do not collide, and a tiny HTTP server for GET /metrics on a port
// separate from the public API (EDGE_METRICS_PORT): tenant ids and traffic
// shape are not for the internet.
import { createServer, type Server } from "node:http";
import { once } from "node:events";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { BUCKETS, EVENT_LOOP_LAG_PRECISION_MS, METRIC, TenantLabels } from "../../contract/metrics.js";
import type { EdgeMetrics, FinishedRequest } from "../metrics.js";

export class PromEdgeMetrics implements EdgeMetrics {
  readonly registry = new Registry();
  private readonly tenants: TenantLabels;
  private readonly requests: Counter<"route" | "method" | "status" | "tenant" | "gen_ai_request_model">;
  private readonly duration: Histogram<"gen_ai_operation_name" | "gen_ai_request_model" | "error_type" | "stream">;
  private readonly ttft: Histogram<"gen_ai_operation_name" | "gen_ai_request_model">;
  private readonly tpot: Histogram<"gen_ai_operation_name" | "gen_ai_request_model">;
  private readonly tokenUsage: Histogram<"gen_ai_operation_name" | "gen_ai_request_model" | "gen_ai_token_type">;
  private readonly tokens: Counter<"tenant" | "gen_ai_request_model" | "type">;
  private readonly openStreams: Gauge;
  private readonly redisErrors: Counter<"component" | "op">;

  constructor(opts: { tenantLabels: number; defaultMetrics?: boolean }) {
    this.tenants = new TenantLabels(opts.tenantLabels);
    const registers = [this.registry];
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_LAG_PRECISION_MS });
    this.requests = new Counter({
      name: METRIC.edgeRequests,
      help: "HTTP requests by route, effective status (SSE: how the stream ended), tenant (capped) and model",
      labelNames: ["route", "method", "status", "tenant", "gen_ai_request_model"],
      registers,
    });
    this.duration = new Histogram({
      name: METRIC.requestDuration,
      help: "Completion requests, arrival to last byte (all outcomes; error_type set on failures)",
      labelNames: ["gen_ai_operation_name", "gen_ai_request_model", "error_type", "stream"],
      buckets: [...BUCKETS.requestDuration],
      registers,
    });
    this.ttft = new Histogram({
      name: METRIC.ttft,
      help: "Streamed requests: arrival at the edge to the first content chunk sent to the client",
      labelNames: ["gen_ai_operation_name", "gen_ai_request_model"],
      buckets: [...BUCKETS.ttft],
      registers,
    });
    this.tpot = new Histogram({
      name: METRIC.timePerOutputToken,
      help: "Streamed successful requests: (last chunk - first chunk) / (output tokens - 1), as relayed to the client",
      labelNames: ["gen_ai_operation_name", "gen_ai_request_model"],
      buckets: [...BUCKETS.timePerOutputToken],
      registers,
    });
    this.tokenUsage = new Histogram({
      name: METRIC.tokenUsage,
      help: "Tokens per successful request as reported to the client (gen_ai_token_type input|output)",
      labelNames: ["gen_ai_operation_name", "gen_ai_request_model", "gen_ai_token_type"],
      buckets: [...BUCKETS.tokenUsage],
      registers,
    });
    this.tokens = new Counter({
      name: METRIC.tokens,
      help: "Tokens reported to clients, by tenant (capped), model and type (input|output|cached)",
      labelNames: ["tenant", "gen_ai_request_model", "type"],
      registers,
    });
    this.openStreams = new Gauge({ name: METRIC.openStreams, help: "Open SSE streams on this edge process", registers });
    this.redisErrors = new Counter({
      name: METRIC.redisErrors,
      help: "Redis failures (connection errors, failed commands, failed stream reads)",
      labelNames: ["component", "op"],
      registers,
    });
  }

  requestFinished(r: FinishedRequest): void {
    const tenant = this.tenants.label(r.tenant);
    const model = r.model ?? "unknown";
    this.requests.inc({ route: r.route, method: r.method, status: String(r.status), tenant, gen_ai_request_model: model });
    if (r.operation === null) return;
    const op = { gen_ai_operation_name: r.operation, gen_ai_request_model: model };
    this.duration.observe({ ...op, error_type: r.errorType ?? "", stream: String(r.stream) }, r.durationS);
    if (r.ttftS !== null) this.ttft.observe(op, r.ttftS);
    if (r.timePerOutputTokenS !== null) this.tpot.observe(op, r.timePerOutputTokenS);
    if (r.usage) {
      this.tokenUsage.observe({ ...op, gen_ai_token_type: "input" }, r.usage.prompt_tokens);
      this.tokenUsage.observe({ ...op, gen_ai_token_type: "output" }, r.usage.completion_tokens);
      this.tokens.inc({ tenant, gen_ai_request_model: model, type: "input" }, r.usage.prompt_tokens);
      this.tokens.inc({ tenant, gen_ai_request_model: model, type: "output" }, r.usage.completion_tokens);
      this.tokens.inc({ tenant, gen_ai_request_model: model, type: "cached" }, r.usage.cached_tokens);
    }
  }

  streams(delta: 1 | -1): void {
    this.openStreams.inc(delta);
  }

  redisError(op: string): void {
    this.redisErrors.inc({ component: "edge", op });
  }
}

export interface MetricsServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** What /metrics serves: one process's registry, or a cluster primary's aggregate of its workers'. */
export interface MetricsSource {
  metrics(): Promise<string>;
  contentType: string;
}

/** Serves GET /metrics (Prometheus text format) from `registry`; anything else is 404. */
export async function serveMetrics(registry: MetricsSource, port: number, host: string): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(req.method === "HEAD" ? undefined : text),
      (err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${err.message}\n`),
    );
  });
  server.listen(port, host);
  await once(server, "listening"); // rejects on "error" (e.g. EADDRINUSE)
  const bound = (server.address() as { port: number }).port;
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return {
    port: bound,
    url: `http://${shown}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
