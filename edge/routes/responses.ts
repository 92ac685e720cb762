// The OpenAI Responses API: POST /v1/responses (validate, rebuild a
// previous_response_id conversation, keep the pending response when store is
// on, submit through the one core; or resume a response), and the stored
// responses: GET/DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items.
import { Hono, type Context } from "hono";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";
import { EdgeError } from "../errors.js";
import { readJson } from "../api/read-json.js";
import { resume } from "../api/resume.js";
import { submit } from "../api/submit.js";
import { keys } from "../../contract/queue/keys.js";
import { BODY_REQUESTS, parseResponsesBody } from "../api/body-requests.js";
import type { Item } from "../responses/items.js";
import { listItems } from "../responses/list.js";
import { responseObject } from "../responses/output.js";
import { responsesRequest } from "../responses/request.js";
import { createStored, deleteStored, readStored } from "../responses/store.js";

const RID = /^resp_[A-Za-z0-9_-]{1,128}$/;

const notFound = (id: string, param: string | null = null) =>
  new EdgeError("not_found", `No response found with id '${id}'.`, { param });

export function responsesRoutes(deps: ResolvedDeps): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.post("/responses", (c) => create(c, deps));
  app.get("/responses/:id", async (c) => {
    if (c.req.query("stream") === "true") throw new EdgeError("invalid_request", "Streaming a stored response is not supported; retrieve it without 'stream'.", { param: "stream" });
    const stored = await find(c, c.req.param("id"));
    return c.json(stored.response);
  });
  app.delete("/responses/:id", async (c) => {
    const id = c.req.param("id");
    if (!RID.test(id) || !(await deleteStored(c.get("conn"), c.get("tenant").id, id))) throw notFound(id);
    return c.json({ id, object: "response.deleted", deleted: true });
  });
  app.get("/responses/:id/input_items", async (c) => {
    const stored = await find(c, c.req.param("id"));
    return c.json(listItems(stored.items, c.req.query()));
  });
  return app;
}

/** The caller's tenant's stored response, else the same 404 as an unknown id (another tenant's ids cannot be probed). */
async function find(c: Context<EdgeEnv>, id: string, param: string | null = null) {
  const stored = RID.test(id) ? await readStored(c.get("conn"), c.get("tenant").id, id) : null;
  if (!stored) throw notFound(id, param);
  return stored;
}

async function create(c: Context<EdgeEnv>, deps: ResolvedDeps): Promise<Response> {
  const lastEventId = c.req.header("last-event-id");
  if (lastEventId !== undefined) return resume(c, deps, "responses", RID, "chat", lastEventId.trim());
  const req = parseResponsesBody(await readJson(c, deps, "responses"));

  // previous_response_id: the stored conversation (its input, then its output) comes first.
  let previous: Item[] = [];
  if (req.previous_response_id) {
    const prev = await find(c, req.previous_response_id, "previous_response_id");
    if (prev.response.status === "in_progress") {
      throw new EdgeError("invalid_request", `Response '${req.previous_response_id}' is still in progress; continue it once it has finished.`, {
        param: "previous_response_id",
      });
    }
    previous = [...prev.items, ...(prev.response.output as Item[])];
  }

  const rid = c.get("requestId");
  const tenant = c.get("tenant");
  const conn = c.get("conn");
  const now = deps.now();
  const ttlS = deps.config.responseStoreTtlS;
  const plan = responsesRequest(req, rid, previous, Math.floor(now / 1000));
  // Storing switched off (TTL 0): the response says so (store: false) rather than pretend.
  if (ttlS === 0) plan.echo.store = false;
  const store = plan.echo.store === true;
  if (store) {
    const limit = tenant.limits.max_stored_response_bytes ?? deps.config.responseStoreMaxBytes;
    const response = responseObject(rid, { ...plan.echo, model: req.model }, { status: "in_progress", output: [] });
    const ok = await createStored(conn, { tenant: tenant.id, id: rid, response, items: plan.items, ttlS, limitBytes: limit, now });
    if (!ok) {
      throw new EdgeError(
        "invalid_request",
        `This organization's stored responses have reached their limit of ${limit} bytes: delete stored responses (DELETE /v1/responses/{id}) or send store: false.`,
        { param: "store" },
      );
    }
  }
  try {
    return await submit(c, deps, plan.req, { kind: "responses", operation: "chat", ...BODY_REQUESTS.responses.fit, echo: plan.echo });
  } catch (err) {
    // Refused before it was queued (quota, model, context): nothing will ever finish it, so keep nothing.
    if (store && (await conn.exists(keys.meta(rid))) === 0) await deleteStored(conn, tenant.id, rid);
    throw err;
  }
}
