// Gives every request its id up front, so every response (errors included)
// carries x-request-id. Completions get OpenAI-style ids (chatcmpl-/cmpl-/resp_/msg_),
// which are also the rid of the queued Job and its response stream.
import type { MiddlewareHandler } from "hono";
import { isAnthropicPath } from "../anthropic/errors.js";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";

export function requestIdPrefix(path: string): string {
  if (path === "/v1/chat/completions") return "chatcmpl-";
  if (path === "/v1/completions") return "cmpl-";
  if (path === "/v1/responses") return "resp_";
  if (path === "/v1/messages") return "msg_";
  return "req-";
}

export function requestId(deps: ResolvedDeps): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const rid = requestIdPrefix(c.req.path) + deps.newId();
    c.set("requestId", rid);
    c.header("x-request-id", rid);
    // Anthropic's clients read `request-id` (the SDK's message._request_id, error.requestID).
    if (isAnthropicPath(c.req.path)) c.header("request-id", rid);
    await next();
    // Responses built outside the context (none today) would miss the header.
    if (!c.res.headers.has("x-request-id")) {
      try {
        c.res.headers.set("x-request-id", c.get("requestId"));
      } catch {
        /* immutable headers: nothing to do */
      }
    }
  };
}
