// Anthropic's error shape, {"type":"error","error":{"type","message"}}, and its
// status codes: every error on a /v1/messages path (auth and quota middleware
// included) is rendered this way by edge/errors.ts, and stream errors by the
// Messages stream translator. The SDK picks its error class by status
// (401 AuthenticationError, 429 RateLimitError, 529 OverloadedError…).

/** Whether a path is served in Anthropic's shapes. */
export function isAnthropicPath(path: string): boolean {
  return path === "/v1/messages" || path.startsWith("/v1/messages/");
}

/**
 * Our status -> Anthropic's status and error type. Anthropic answers overload
 * with 529 overloaded_error (never 503), so a queue timeout, a draining edge or
 * an unavailable worker becomes 529; its Retry-After is kept.
 */
export function anthropicError(status: number): { status: number; type: string } {
  switch (status) {
    case 400:
      return { status, type: "invalid_request_error" };
    case 401:
      return { status, type: "authentication_error" };
    case 403:
      return { status, type: "permission_error" };
    case 404:
      return { status, type: "not_found_error" };
    case 413:
      return { status, type: "request_too_large" };
    case 429:
      return { status, type: "rate_limit_error" };
    case 503:
    case 529:
      return { status: 529, type: "overloaded_error" };
    case 504:
      return { status, type: "timeout_error" };
    default:
      return status < 500 ? { status, type: "invalid_request_error" } : { status, type: "api_error" };
  }
}

export function anthropicErrorBody(type: string, message: string) {
  return { type: "error", error: { type, message } };
}
