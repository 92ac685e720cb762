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
import { BODY_REQUESTS } from "../api/body-requests.js";

const MESSAGES: Surface = { kind: "messages", operation: "chat", ...BODY_REQUESTS.messages.fit, rateLimitHeaders: anthropicRateLimitHeaders };
const COUNT: Surface = { kind: "count_tokens", operation: "chat", ...BODY_REQUESTS.count_tokens.fit, countOnly: true };

async function request(c: Context<EdgeEnv>, deps: ResolvedDeps, kind: "messages" | "count_tokens") {
  checkVersion(c.req.header("anthropic-version"));
  return BODY_REQUESTS[kind].request(await readJson(c, deps, kind))!;
}

export function messagesRoutes(deps: ResolvedDeps): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.post("/messages", async (c) => {
    // A dropped response is resumed exactly as on the chat API (edge/api/resume.ts; the body is ignored).
    const lastEventId = c.req.header("last-event-id");
    if (lastEventId !== undefined) return resume(c, deps, "messages", /^msg_[A-Za-z0-9_-]{1,128}$/, "chat", lastEventId.trim());
    return submit(c, deps, await request(c, deps, "messages"), MESSAGES);
  });
  app.post("/messages/count_tokens", async (c) => submit(c, deps, await request(c, deps, "count_tokens"), COUNT));
  return app;
}
