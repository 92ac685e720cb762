// Resume: a client whose connection dropped re-POSTs to the same endpoint with
// `x-request-id: <id of the original response>` and `Last-Event-ID: <last SSE
// id it received>` (the body is ignored: nothing is enqueued again). The edge
// checks that the request belongs to the caller's tenant and came through the
// same API (anything else is the same 404 as an unknown id, so ids of other
// tenants cannot even be probed) and relays the stream's entries after that
// id. `Last-Event-ID: 0` replays from the start, which also fetches the result
// of a non-streaming request whose connection dropped.
import type { Context } from "hono";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";
import { EdgeError } from "../errors.js";
import { attachCount, readMeta, type RequestMeta } from "../queue.js";
import { relayJSON, relaySSE, wantsResume } from "../relay.js";
import { isStreamId } from "../streams/reader.js";
import type { Operation } from "../metrics.js";

export async function resume(
  c: Context<EdgeEnv>,
  deps: ResolvedDeps,
  kind: RequestMeta["kind"],
  idPattern: RegExp,
  operation: Operation,
  lastEventId: string,
): Promise<Response> {
  const rid = c.req.header("x-request-id")?.trim();
  if (!rid) {
    throw new EdgeError("invalid_request", "Resuming with Last-Event-ID needs the x-request-id header of the original response.", {
      param: "x-request-id",
    });
  }
  if (!isStreamId(lastEventId)) {
    throw new EdgeError("invalid_request", "Last-Event-ID must be an event id this API sent (or 0 to start over).", {
      param: "Last-Event-ID",
    });
  }
  const conn = c.get("conn");
  const meta = idPattern.test(rid) ? await readMeta(conn, rid) : null;
  if (meta === null || meta.tenant_id !== c.get("tenant").id || meta.kind !== kind) {
    throw new EdgeError("not_found", `No response '${rid}' to resume for this API key.`, { param: "x-request-id" });
  }
  c.set("requestId", rid);
  c.header("x-request-id", rid);
  const obs = c.get("obs");
  obs.model = meta.model;
  obs.operation = operation;
  obs.tenant = meta.tenant_id;
  obs.stream = meta.stream;
  obs.resumed = true;
  const attach = await attachCount(conn, rid, true);
  const target = { rid, meta, afterId: lastEventId, position: null, attach, resumable: wantsResume(c) };
  return meta.stream ? relaySSE(c, deps, target) : relayJSON(c, deps, target);
}
