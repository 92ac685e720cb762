// POST /v1/messages and POST /v1/messages/count_tokens (the Anthropic Messages
// API): validate, translate to the internal request the chat API also builds,
// submit (admit, enqueue, relay through the Anthropic translators), or resume a
// dropped stream with Last-Event-ID. Errors on these paths are rendered in
// Anthropic's shape by edge/errors.ts.
import { Hono, type Context } from "hono";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";
import { readJson } from "../api/read-json.js";
import { submit, type Surface } from "../api/submit.js";
import { resume } from "../api/resume.js";
import { anthropicRateLimitHeaders, checkVersion } from "../anthropic/headers.js";
import { countTokensRequest, messagesRequest } from "../anthropic/requests.js";
import { CountTokensRequestSchema, MessagesRequestSchema } from "../anthropic/schemas.js";
import { refuseUnsupportedMessages } from "../anthropic/unsupported.js";
import { parseBody } from "../openai/schemas.js";

const MESSAGES: Surface = { kind: "messages", operation: "chat", maxTokensParam: "max_tokens", rateLimitHeaders: anthropicRateLimitHeaders };
const COUNT: Surface = { kind: "count_tokens", operation: "chat", maxTokensParam: "max_tokens", countOnly: true };

async function body(c: Context<EdgeEnv>, deps: ResolvedDeps): Promise<unknown> {
  checkVersion(c.req.header("anthropic-version"));
  const b = await readJson(c, deps.config.maxBodyBytes);
  refuseUnsupportedMessages(b);
  return b;
}

export function messagesRoutes(deps: ResolvedDeps): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.post("/messages", async (c) => {
    // A dropped response is resumed exactly as on the chat API (edge/api/resume.ts; the body is ignored).
    const lastEventId = c.req.header("last-event-id");
    if (lastEventId !== undefined) return resume(c, deps, "messages", /^msg_[A-Za-z0-9_-]{1,128}$/, "chat", lastEventId.trim());
    return submit(c, deps, messagesRequest(parseBody(MessagesRequestSchema, await body(c, deps))), MESSAGES);
  });
  app.post("/messages/count_tokens", async (c) => submit(c, deps, countTokensRequest(parseBody(CountTokensRequestSchema, await body(c, deps))), COUNT));
  return app;
}
