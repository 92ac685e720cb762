// grpc-js errors converted where they enter: one value type for every failed call,
// plus the gateway mapping of gRPC status -> HTTP status / OpenAI error type (wire §3.4).
import { status as Status } from "@grpc/grpc-js";

export interface RpcError {
  code: Status;
  /** e.g. "UNAVAILABLE" */
  codeName: string;
  message: string;
}

export function toRpcError(e: unknown): RpcError {
  const x = e as { code?: unknown; details?: unknown; message?: unknown };
  const code = typeof x?.code === "number" && Status[x.code] !== undefined ? (x.code as Status) : Status.UNKNOWN;
  const message = typeof x?.details === "string" && x.details ? x.details : typeof x?.message === "string" ? x.message : String(e);
  return { code, codeName: Status[code], message };
}

export function localRpcError(code: Status, message: string): RpcError {
  return { code, codeName: Status[code], message };
}

/** HTTP status for a gRPC code, as smg maps it (routers/grpc/utils/tonic_ext.rs). */
export function httpStatusFor(code: Status): number {
  switch (code) {
    case Status.INVALID_ARGUMENT:
    case Status.FAILED_PRECONDITION:
    case Status.OUT_OF_RANGE:
    case Status.CANCELLED:
      return 400;
    case Status.UNAUTHENTICATED:
      return 401;
    case Status.PERMISSION_DENIED:
      return 403;
    case Status.NOT_FOUND:
      return 404;
    case Status.ALREADY_EXISTS:
    case Status.ABORTED:
      return 409;
    case Status.RESOURCE_EXHAUSTED:
      return 429;
    case Status.UNAVAILABLE:
      return 503;
    case Status.DEADLINE_EXCEEDED:
      return 504;
    case Status.UNIMPLEMENTED:
      return 501;
    default:
      return 500;
  }
}

/** OpenAI error `type` for an HTTP status. */
export function errorTypeFor(http: number): string {
  if (http === 400) return "invalid_request_error";
  if (http === 401) return "authentication_error";
  if (http === 403) return "permission_error";
  if (http === 404) return "not_found_error";
  if (http === 409) return "conflict_error";
  if (http === 429) return "rate_limit_error";
  if (http === 503) return "service_unavailable";
  return "server_error";
}

/** smg retries these HTTP classes (408/429/500/502/503/504); we do the same, on another worker. */
export function isRetryable(code: Status): boolean {
  return [408, 429, 500, 502, 503, 504].includes(httpStatusFor(code));
}
