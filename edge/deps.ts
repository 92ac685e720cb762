// What the edge app needs from its runtime. Each entry (Node, Workers) builds
// one real implementation of each capability; the app never imports a
// runtime module itself.
import type { Redis } from "ioredis";
import type { ApiKeyRecord } from "../contract/queue/messages.js";
import type { Admission } from "./admission.js";
import type { EdgeConfig, EdgeConfigInput, Logger } from "./config.js";
import type { EdgeLifecycle } from "./lifecycle.js";
import type { EdgeMetrics, RequestObs } from "./metrics.js";
import type { ModelRegistry } from "./models.js";
import type { ResponseStreamReader } from "./streams/reader.js";
import type { SseResponder } from "./streams/sse-sink.js";
import type { RequestIo } from "./api/request-io.js";
import type { Tenant } from "./tenants.js";
import type { BodyChecker } from "./api/read-json.js";
import type { KeyGuard } from "./key-guard.js";

export interface RedisLease {
  redis: Redis;
  /** Node: no-op (shared connection). Workers: closes the per-request connection. */
  release(): void;
}

export interface EdgeDeps {
  /**
   * A command connection for one request. Node: the process's shared
   * connection. Workers: a new connection per request (workerd cannot reuse
   * one across requests), released when the response ends, streams included.
   */
  redis(): Promise<RedisLease>;
  /** How SSE reads a request's response stream (pushed or notified on Node, per-request on Workers). */
  streams: ResponseStreamReader;
  /** ms since epoch; default Date.now */
  now?(): number;
  /** unique id suffix for request ids; default crypto.randomUUID without dashes */
  newId?(): string;
  /**
   * Keeps background work (cancel after a disconnect, settlement) alive after
   * the response. Default: Hono's c.executionCtx.waitUntil when the runtime
   * has one (Workers), else the promise simply runs (Node).
   */
  waitUntil?(p: Promise<unknown>): void;
  config?: EdgeConfigInput;
  logger?: Logger;
  /** default: openAdmission (admit all) */
  admission?: Admission;
  /** default: no-op (the Node entry passes the Prometheus implementation) */
  metrics?: EdgeMetrics;
  /** draining state and open responses; default: a lifecycle nobody drains (Workers) */
  lifecycle?: EdgeLifecycle;
  /** how SSE responses are written; default: Hono's streamSSE (the Node entry writes to the socket directly) */
  sse?: SseResponder;
  /** decides on large bodies off the event loop (the Node entry's threads); default: none, every body is parsed in line */
  bodyCheck?: BodyChecker;
  /** how bodies are read and a client's leaving noticed; default: the web Request (the Node entry reads Node's request) */
  io?: RequestIo;
}

/** EdgeDeps with every default filled in, as the routes see it. */
export interface ResolvedDeps {
  redis(): Promise<RedisLease>;
  streams: ResponseStreamReader;
  now(): number;
  newId(): string;
  waitUntil: ((p: Promise<unknown>) => void) | undefined;
  config: EdgeConfig;
  logger: Logger;
  admission: Admission;
  models: ModelRegistry;
  metrics: EdgeMetrics;
  lifecycle: EdgeLifecycle;
  sse: SseResponder;
  bodyCheck: BodyChecker | undefined;
  io: RequestIo;
}

/** Typed Hono context: set by middleware, read by handlers. */
export type EdgeEnv = {
  Variables: {
    requestId: string;
    tenant: Tenant;
    keyRecord: ApiKeyRecord;
    /** set when keyRecord is a cached read not yet confirmed for this request (edge/middleware/auth.ts) */
    keyGuard: KeyGuard | undefined;
    /** the request's command connection */
    conn: Redis;
    /** gives the connection back; idempotent */
    releaseConn: () => void;
    /** set by a handler whose response outlives it (SSE): the stream then releases the connection */
    streaming: boolean;
    /** what the metrics and the access log learn about this request (edge/metrics.ts) */
    obs: RequestObs;
  };
};
