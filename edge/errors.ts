// The edge's OpenAI error table: each code the edge raises itself (a subset of
// the one closed ErrorCode set, contract/errors.ts) maps to one HTTP status and one
// OpenAI error `type`, and every error response is rendered by `errorResponse`
// as {"error":{"message","type","param","code"}}, so clients (and the official
// SDKs) see the same shape whatever failed. Expected failures are EdgeError
// values; anything else is a bug and becomes a logged 500.
import type { Context } from "hono";
import type { ErrorCode } from "../contract/errors.js";
import { anthropicError, anthropicErrorBody, isAnthropicPath } from "./anthropic/errors.js";

export const ERROR_CODES = {
  invalid_request: { status: 400, type: "invalid_request_error" },
  invalid_json: { status: 400, type: "invalid_request_error" },
  invalid_api_key: { status: 401, type: "invalid_request_error" },
  permission_denied: { status: 403, type: "permission_error" },
  context_length_exceeded: { status: 400, type: "invalid_request_error" },
  model_not_found: { status: 404, type: "invalid_request_error" },
  not_found: { status: 404, type: "invalid_request_error" },
  method_not_allowed: { status: 405, type: "invalid_request_error" },
  payload_too_large: { status: 413, type: "invalid_request_error" },
  rate_limit_exceeded: { status: 429, type: "rate_limit_error" },
  queue_full: { status: 429, type: "rate_limit_error" },
  insufficient_quota: { status: 429, type: "insufficient_quota" },
  service_unavailable: { status: 503, type: "server_error" },
  queue_timeout: { status: 503, type: "server_error" },
  internal_error: { status: 500, type: "server_error" },
} as const satisfies Partial<Record<ErrorCode, { status: number; type: string }>>;

/** The codes an EdgeError may carry. */
export type EdgeErrorCode = keyof typeof ERROR_CODES;

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: ErrorCode | null };
}

export class EdgeError extends Error {
  readonly code: EdgeErrorCode;
  readonly param: string | null;
  /** Seconds, rendered as Retry-After (429/503). */
  readonly retryAfterS: number | undefined;
  /** Extra response headers (e.g. Allow on 405). */
  readonly headers: Record<string, string>;

  constructor(
    code: EdgeErrorCode,
    message: string,
    opts: { param?: string | null; retryAfterS?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "EdgeError";
    this.code = code;
    this.param = opts.param ?? null;
    this.retryAfterS = opts.retryAfterS;
    this.headers = opts.headers ?? {};
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  body(): OpenAIErrorBody {
    return { error: { message: this.message, type: ERROR_CODES[this.code].type, param: this.param, code: this.code } };
  }
}

/**
 * An error the pool reported through the response stream (ErrorInfo). Its
 * status/type/code come from the pool verbatim, so it is not one of our codes.
 */
export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: ErrorCode | null,
    message: string,
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = "UpstreamError";
  }

  body(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: null, code: this.code } };
  }
}

export interface ErrorLogger {
  error(obj: object, msg?: string): void;
}

/** Renders any thrown value as an OpenAI error response, or Anthropic's on its paths (the app's single onError). */
export function errorResponse(c: Context, err: unknown, logger: ErrorLogger): Response {
  let status: number;
  let body: OpenAIErrorBody;
  const headers: Record<string, string> = {};
  if (err instanceof EdgeError) {
    status = err.status;
    body = err.body();
    Object.assign(headers, err.headers);
    if (err.retryAfterS !== undefined) headers["retry-after"] = String(err.retryAfterS);
  } else if (err instanceof UpstreamError) {
    // Guard against a nonsense status from upstream: only 4xx/5xx are errors.
    status = err.status >= 400 && err.status <= 599 ? err.status : 502;
    body = err.body();
    if (err.retryAfterS !== undefined) headers["retry-after"] = String(err.retryAfterS);
    else if (status === 429 || status === 503) headers["retry-after"] = "1";
  } else if (isRedisUnavailable(err)) {
    // A foreign error at the edge of our world: Redis is down or unreachable.
    // Not the client's fault and not a bug: 503 with a short Retry-After.
    logger.error({ err: describe(err), path: c.req.path }, "redis unavailable");
    status = 503;
    body = { error: { message: "The service is temporarily unavailable.", type: "server_error", param: null, code: "service_unavailable" } };
    headers["retry-after"] = "1";
  } else {
    const requestId = safeGet(c, "requestId");
    logger.error({ err: describe(err), requestId, path: c.req.path }, "unhandled error");
    status = 500;
    body = { error: { message: "Internal server error", type: "server_error", param: null, code: "internal_error" } };
  }
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  // The Anthropic Messages API has its own error shape and statuses (edge/anthropic/errors.ts).
  if (isAnthropicPath(c.req.path)) {
    const a = anthropicError(status);
    // Anthropic's shape has no `param`: name it in the message, as Anthropic's own messages do.
    const { param, message } = body.error;
    return c.json(anthropicErrorBody(a.type, param && !message.includes(param) ? `${param}: ${message}` : message), a.status as 400);
  }
  return c.json(body, status as 400);
}

/** ioredis connection-level failures (as opposed to bugs such as a wrong command). */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === "MaxRetriesPerRequestError") return true;
  return /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Stream isn't writeable|connect ETIMEDOUT|LOADING|MASTERDOWN/.test(err.message);
}

function safeGet(c: Context, key: string): unknown {
  try {
    return c.get(key as never);
  } catch {
    return undefined;
  }
}

function describe(err: unknown): unknown {
  return err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : err;
}
