// POST /v1/chat/completions and POST /v1/completions: validate, translate to
// the internal request, submit (admit, enqueue, relay); or resume a response
// (edge/api/resume.ts).
import { Hono, type Context } from "hono";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";
import { readJson } from "../api/read-json.js";
import { resume } from "../api/resume.js";
import { submit } from "../api/submit.js";
import { BODY_REQUESTS } from "../api/body-requests.js";

const SURFACES = {
  chat: { kind: "chat", operation: "chat", ...BODY_REQUESTS.chat.fit, rid: /^chatcmpl-[A-Za-z0-9_-]{1,128}$/ },
  completion: { kind: "completion", operation: "text_completion", ...BODY_REQUESTS.completion.fit, rid: /^cmpl-[A-Za-z0-9_-]{1,128}$/ },
} as const;

export function completionRoutes(deps: ResolvedDeps): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.post("/chat/completions", (c) => handle(c, deps, "chat"));
  app.post("/completions", (c) => handle(c, deps, "completion"));
  return app;
}

async function handle(c: Context<EdgeEnv>, deps: ResolvedDeps, kind: keyof typeof SURFACES): Promise<Response> {
  const surface = SURFACES[kind];
  const lastEventId = c.req.header("last-event-id");
  if (lastEventId !== undefined) return resume(c, deps, surface.kind, surface.rid, surface.operation, lastEventId.trim());
  const req = BODY_REQUESTS[kind].request(await readJson(c, deps, kind))!;
  return submit(c, deps, req, surface);
}
