// What the edge app reports about each request, as one runtime-free seam:
// routes and the relay fill in a RequestObs, the observe middleware hands the
// finished summary to EdgeMetrics. The Node entry plugs in a Prometheus
// implementation (edge/node/metrics-prom.ts); workerd and tests get the no-op.
import type { Usage } from "../contract/queue/messages.js";

export type Operation = "chat" | "text_completion";

/** One finished HTTP request, as the metrics see it. */
export interface FinishedRequest {
  /** normalized route ("/v1/chat/completions", "/v1/models/:id", "/admin", "other") */
  route: string;
  method: string;
  /**
   * Effective status: the HTTP status, except for SSE streams (always sent
   * as 200), where it is 200 for a clean end, the pool's error status for an
   * in-stream error, 503 for a queue timeout and 499 when the client left.
   */
  status: number;
  /** error code (our ErrorCode, or the pool's ErrorInfo.code) when status >= 400 */
  errorType: string | null;
  /** tenant id once authenticated */
  tenant: string | null;
  /** the model, once validated as served (never raw client input) */
  model: string | null;
  operation: Operation | null;
  stream: boolean;
  /** a Last-Event-ID resume (no TTFT, no token usage: the original counted them) */
  resumed: boolean;
  durationS: number;
  /** streamed original requests with at least one content chunk */
  ttftS: number | null;
  /** streamed successful requests with >= 2 output tokens */
  timePerOutputTokenS: number | null;
  /** successful original requests */
  usage: Usage | null;
}

export interface EdgeMetrics {
  requestFinished(r: FinishedRequest): void;
  /** an SSE stream opened (+1) or closed (-1) */
  streams(delta: 1 | -1): void;
  /** a Redis command or connection failed (op: "command", "connection", "stream_read"...) */
  redisError(op: string): void;
}

export const noopEdgeMetrics: EdgeMetrics = {
  requestFinished() {},
  streams() {},
  redisError() {},
};

/** Maps a path to a bounded set of route labels. */
export function routeLabel(path: string): string {
  if (path === "/v1/chat/completions" || path === "/v1/completions" || path === "/v1/models") return path;
  if (path === "/v1/messages" || path === "/v1/messages/count_tokens") return path;
  if (path.startsWith("/v1/models/")) return "/v1/models/:id";
  if (path.startsWith("/admin/")) return "/admin";
  return "other";
}

/**
 * Per-request observation, kept on the Hono context (`obs`). Filled in as the
 * request goes (model, first token, usage) and finished exactly once: by the
 * observe middleware for ordinary responses, by the relay when an SSE stream ends.
 */
export class RequestObs {
  model: string | null = null;
  operation: Operation | null = null;
  tenant: string | null = null;
  stream = false;
  resumed = false;
  /** set by a handler whose response outlives it (SSE): it calls finish() itself */
  deferred = false;
  private firstTokenAt: number | null = null;
  private lastTokenAt: number | null = null;
  private usage: Usage | null = null;
  private finished = false;

  constructor(
    readonly route: string,
    readonly method: string,
    readonly startedAt: number,
    private readonly now: () => number,
    private readonly onFinish: (r: FinishedRequest) => void,
  ) {
    // Known from the route alone, so rejected requests (401, 400...) count as completions too.
    if (route === "/v1/chat/completions") this.operation = "chat";
    else if (route === "/v1/completions") this.operation = "text_completion";
  }

  /** A content chunk went out to the client. */
  chunk(): void {
    const t = this.now();
    if (this.firstTokenAt === null) this.firstTokenAt = t;
    this.lastTokenAt = t;
  }

  /** The terminal `done` arrived with the request's usage. */
  done(usage: Usage): void {
    this.usage = usage;
  }

  finish(status: number, errorType: string | null): void {
    if (this.finished) return;
    this.finished = true;
    const end = this.now();
    const original = !this.resumed;
    const ok = status < 400;
    const out = this.usage?.completion_tokens ?? 0;
    const streamed = this.stream && original && this.firstTokenAt !== null;
    this.onFinish({
      route: this.route,
      method: this.method,
      status,
      errorType: ok ? null : (errorType ?? String(status)),
      tenant: this.tenant,
      model: this.model,
      operation: this.operation,
      stream: this.stream,
      resumed: this.resumed,
      durationS: (end - this.startedAt) / 1000,
      ttftS: streamed ? (this.firstTokenAt! - this.startedAt) / 1000 : null,
      timePerOutputTokenS:
        streamed && ok && out >= 2 && this.lastTokenAt !== null ? (this.lastTokenAt - this.firstTokenAt!) / 1000 / (out - 1) : null,
      usage: ok && original ? this.usage : null,
    });
  }
}
