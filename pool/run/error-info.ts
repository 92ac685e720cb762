// The pool's error events in the client's terms: a status, a type and a code
// from the contract, and a message that never carries a worker's internals.
import { workerErrorCode, type ErrorCode } from "../../contract/errors.js";
import type { ErrorInfo } from "../../contract/queue/messages.js";
import { errorTypeFor, httpStatusFor, type RpcError } from "../workers/rpc-error.js";

export function errorInfo(status: number, code: ErrorCode, message: string, type = errorTypeFor(status)): ErrorInfo {
  return { status, type, code, message };
}

/** A worker's error in our words: its own text (internals, paths) is logged, never sent to a client. */
export function rpcErrorInfo(e: RpcError): ErrorInfo {
  const http = httpStatusFor(e.code);
  const message = http < 500 ? `The model refused the request's parameters (${e.codeName}).` : `The inference worker failed (${e.codeName}). Please retry.`;
  return errorInfo(http, workerErrorCode(e.codeName), message);
}
