// The one closed set of error codes: the `code` of the pool's error events
// (ErrorInfo, contract/queue/messages.ts) and of the edge's OpenAI error
// bodies (edge/errors.ts maps each of its codes to an HTTP status and type).
// A code the edge does not know — written by a newer or older pool — is read
// as `upstream_error` (ErrorInfoSchema), so the set stays closed at runtime too.
import { z } from "zod";

/** gRPC status names (grpc-js `status`, except OK), lowercased: a worker call failed with this status. */
export const GRPC_STATUS_NAMES = [
  "cancelled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
] as const;
export type GrpcStatusName = (typeof GRPC_STATUS_NAMES)[number];

type WorkerCode = `worker_${GrpcStatusName}`;
const WORKER_CODES = GRPC_STATUS_NAMES.map((s) => `worker_${s}` as WorkerCode);

/** What the pool reports in a request's `error` event. */
export const POOL_ERROR_CODES = [
  "queue_timeout", // the claim came after the job's deadline
  "invalid_job", // the queued job could not be decoded
  "model_unavailable", // no tokenizer (or worker) for the model on this pool
  "invalid_prompt", // the chat template refused the messages, or the prompt is empty
  "tokenizer_failed", // a tokenization thread died while preparing the prompt
  "context_length_exceeded",
  "invalid_request", // e.g. a constraint that cannot be compiled
  "cancelled", // the client (or an operator) cancelled the request
  "no_workers", // no healthy worker serves the model
  "worker_lost", // the worker died mid-stream and the request could not move
  ...WORKER_CODES, // the last worker call failed with this gRPC status (worker_unavailable, …)
] as const;

/** What only the edge produces (its own checks, and its view of the pool). */
export const EDGE_ERROR_CODES = [
  "invalid_json",
  "invalid_api_key",
  "permission_denied",
  "model_not_found",
  "not_found",
  "method_not_allowed",
  "payload_too_large",
  "rate_limit_exceeded",
  "queue_full",
  "insufficient_quota",
  "service_unavailable",
  "internal_error",
  "misconfigured",
  "bad_upstream_event", // an unreadable entry in the response stream
  "upstream_error", // a code from the pool that this edge does not know
] as const;

export const ERROR_CODES = [...POOL_ERROR_CODES, ...EDGE_ERROR_CODES] as const;
export const ErrorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;
export type PoolErrorCode = (typeof POOL_ERROR_CODES)[number];

const known = new Set<string>(ERROR_CODES);
export const isErrorCode = (c: string): c is ErrorCode => known.has(c);

/** A code read off the wire: known codes as they are, anything else `upstream_error`. */
export const toErrorCode = (c: string): ErrorCode => (isErrorCode(c) ? c : "upstream_error");

/** "UNAVAILABLE" (grpc-js status name) → "worker_unavailable". */
export function workerErrorCode(grpcStatusName: string): ErrorCode {
  return toErrorCode(`worker_${grpcStatusName.toLowerCase()}`);
}
