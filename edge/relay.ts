// Relays a request's response stream (keys.out(rid)) to the client: as SSE
// chunks for stream:true, or as one JSON object once the terminal event is in.
// The Redis Stream is the durable log, so the same code serves the original
// request and a resume (Last-Event-ID) from any entry id.
import type { Context } from "hono";
import type { ErrorInfo } from "../contract/queue/messages.js";
import type { EdgeEnv, ResolvedDeps } from "./deps.js";
import { EdgeError, UpstreamError, isRedisUnavailable } from "./errors.js";
import { endHook, jsonTranslator, streamTranslator } from "./api/surfaces.js";
import { sseText, type SseEvent } from "./api/translator.js";
import { attachCount, cancelRequest, touchMeta } from "./queue.js";
import { compareIds } from "./streams/reader.js";
import { follow, type RelayTarget } from "./relay-follow.js";
import { DRAIN_REASON } from "./lifecycle.js";

export type { RelayTarget } from "./relay-follow.js";

/** Request header with which a client says it will resume a dropped response (`x-resumable: true`). */
export const RESUMABLE_HEADER = "x-resumable";

export function wantsResume(c: Context<EdgeEnv>): boolean {
  return c.req.header(RESUMABLE_HEADER)?.trim().toLowerCase() === "true";
}

function runInBackground(c: Context<EdgeEnv>, deps: ResolvedDeps, p: Promise<unknown>): void {
  const guarded = p.catch((err) => deps.logger.error({ err: (err as Error).message }, "background task failed"));
  if (deps.waitUntil) return deps.waitUntil(guarded);
  // Workers. (On Node the entry passes a waitUntil: Hono's getter throws there, and
  // building that Error for every request showed in admission profiles.)
  try {
    c.executionCtx.waitUntil(guarded);
  } catch {
    /* no execution context: the promise runs on its own */
  }
}

/**
 * Cancels a request the client left before its end. A client that hung up
 * lets go of the GPU at once (or after cancelGraceMs); a client that asked to
 * resume, and every response a draining edge ended, get resumeGraceMs to come
 * back (possibly on another edge process). Either wait is skipped if another
 * client attached meanwhile (a resume).
 */
function cancelLater(c: Context<EdgeEnv>, deps: ResolvedDeps, t: RelayTarget, reason: string): void {
  const started = deps.now();
  const resumable = reason === DRAIN_REASON || (reason === "client_disconnected" && t.resumable);
  const grace = resumable ? deps.config.resumeGraceMs : deps.config.cancelGraceMs;
  runInBackground(
    c,
    deps,
    (async () => {
      if (grace > 0) await new Promise((r) => setTimeout(r, grace));
      const lease = await deps.redis();
      try {
        if (grace > 0 && (await attachCount(lease.redis, t.rid, false)) !== t.attach) return;
        await cancelRequest(lease.redis, t.rid, t.meta.model, reason);
        deps.logger.info({ requestId: t.rid, tenant: t.meta.tenant_id, model: t.meta.model, reason, ms: deps.now() - started }, "request cancelled");
      } finally {
        lease.release();
      }
    })(),
  );
}

/** Runs the API's end hook (e.g. storing a Responses API response) once the terminal event is in. */
function afterEnd(c: Context<EdgeEnv>, deps: ResolvedDeps, t: RelayTarget): void {
  const hook = endHook(t.rid, t.meta);
  if (!hook) return;
  runInBackground(
    c,
    deps,
    (async () => {
      const lease = await deps.redis();
      try {
        await hook(lease.redis);
      } finally {
        lease.release();
      }
    })(),
  );
}

/**
 * The abort reason when the client left. A reason given explicitly: abort() without one
 * builds a DOMException (with its stack), which showed in admission profiles.
 */
const CLIENT_GONE = "client_disconnected";

/** Why a relay's signal fired: the edge's drain, else the client left. */
function goneReason(signal: AbortSignal): string {
  return signal.reason === DRAIN_REASON ? DRAIN_REASON : CLIENT_GONE;
}

/** A request the relay gave up on (its state lost or its stream rewritten) stops generating too. */
const LOST_REASON = "state_lost";

function requestLost(deps: ResolvedDeps): EdgeError {
  return new EdgeError("service_unavailable", "This request's state was lost by the gateway's store (a Redis restart or failover); please retry it.", {
    retryAfterS: deps.config.retryAfterS,
  });
}

function queueTimeout(deps: ResolvedDeps): EdgeError {
  return new EdgeError("queue_timeout", "The request waited too long in the queue; the service is overloaded. Please retry.", {
    retryAfterS: deps.config.retryAfterS,
  });
}

/** An edge-side EdgeError as the ErrorInfo the translators render. */
function errorInfoOf(e: EdgeError): ErrorInfo {
  const b = e.body().error;
  return { status: e.status, type: b.type, code: b.code, message: b.message };
}

const INTERNAL: ErrorInfo = { status: 500, type: "server_error", code: "internal_error", message: "Internal server error" };

/** stream:true — the API's SSE events; keepalives while waiting. */
export function relaySSE(c: Context<EdgeEnv>, deps: ResolvedDeps, t: RelayTarget): Response {
  c.set("streaming", true);
  const conn = c.get("conn");
  const release = c.get("releaseConn");
  const resumed = compareIds(t.afterId, "0") !== 0;
  const tr = streamTranslator(t.rid, t.meta, resumed ? t.afterId : null);
  // The stream outlives the handler: this relay finishes the request's observation.
  const obs = c.get("obs");
  obs.deferred = true;
  deps.metrics.streams(1);
  return deps.sse(c, async (stream) => {
    const gone = new AbortController();
    const untrack = deps.lifecycle.track(gone);
    stream.onAbort(() => gone.abort(CLIENT_GONE));
    deps.io.onClientGone(c, () => gone.abort(CLIENT_GONE));
    let finished = false;
    /** the request's effective status and error code, for metrics and the access log */
    let outcome: [number, string | null] = [200, null];
    const send = async (events: readonly SseEvent[]) => {
      if (events.length) await stream.write(sseText(events));
    };
    try {
      if (!resumed) await send(tr.open());
      if (t.position !== null) await stream.write(`: queued position=${t.position}\n\n`);
      for await (const item of follow(deps, conn, tr.replay ? { ...t, afterId: "0" } : t, gone.signal)) {
        if (item.kind === "idle") {
          await stream.write(tr.keepalive(item.position));
        } else if (item.kind === "ended") {
          finished = true;
          await send(tr.ended());
        } else if (item.kind === "timeout") {
          finished = true;
          outcome = [503, "queue_timeout"];
          cancelLater(c, deps, t, "queue_timeout");
          await send(tr.error(errorInfoOf(queueTimeout(deps))));
        } else if (item.kind === "lost") {
          finished = true;
          outcome = [503, "service_unavailable"];
          cancelLater(c, deps, t, LOST_REASON);
          await send(tr.error(errorInfoOf(requestLost(deps))));
        } else {
          const out: SseEvent[] = [];
          for (const e of item.entries) {
            const ev = e.event;
            // A replaying translator re-reads what an earlier relay already sent (and counted).
            const seenBefore = resumed && tr.replay === true && compareIds(e.id, t.afterId) <= 0;
            if (ev.type === "chunk") {
              out.push(...tr.chunk(ev, e.id));
              if (!seenBefore && ev.choices.some((ch) => ch.text !== "" || ch.token_ids.length > 0)) obs.chunk();
            } else if (ev.type === "done") {
              finished = true;
              if (!seenBefore) obs.done(ev.usage);
              out.push(...tr.done(ev.usage, e.id));
              runInBackground(c, deps, touchMeta(conn, t.rid));
              afterEnd(c, deps, t);
            } else {
              finished = true;
              outcome = [ev.error.status, ev.error.code];
              out.push(...tr.error(ev.error, e.id));
              afterEnd(c, deps, t);
            }
          }
          await send(out);
        }
      }
    } catch (err) {
      deps.logger.error({ err: (err as Error).message, requestId: t.rid, tenant: t.meta.tenant_id, model: t.meta.model }, "stream relay failed");
      const redisDown = isRedisUnavailable(err);
      if (redisDown) deps.metrics.redisError("stream_read");
      outcome = redisDown ? [503, "service_unavailable"] : [500, "internal_error"];
      if (!gone.signal.aborted) await send(tr.error(INTERNAL));
    } finally {
      if (!finished) {
        const why = gone.signal.aborted ? goneReason(gone.signal) : "edge_error";
        cancelLater(c, deps, t, why);
        if (gone.signal.aborted) outcome = [499, why];
        else if (outcome[0] < 400) outcome = [500, "edge_error"];
      }
      untrack();
      release();
      deps.metrics.streams(-1);
      obs.finish(outcome[0], outcome[1]);
    }
  });
}

/** stream:false — the API's one response object once the request is done. */
export async function relayJSON(c: Context<EdgeEnv>, deps: ResolvedDeps, t: RelayTarget): Promise<Response> {
  const conn = c.get("conn");
  const acc = jsonTranslator(t.rid, t.meta);
  const gone = new AbortController();
  const untrack = deps.lifecycle.track(gone);
  deps.io.onClientGone(c, () => gone.abort(CLIENT_GONE));
  const signal = gone.signal;
  let finished = false;
  try {
    for await (const item of follow(deps, conn, { ...t, afterId: "0" }, signal)) {
      if (item.kind === "idle" || item.kind === "ended") continue;
      if (item.kind === "timeout") {
        finished = true;
        cancelLater(c, deps, t, "queue_timeout");
        throw queueTimeout(deps);
      }
      if (item.kind === "lost") {
        finished = true;
        cancelLater(c, deps, t, LOST_REASON);
        throw requestLost(deps);
      }
      for (const e of item.entries) {
        const ev = e.event;
        if (ev.type === "chunk") acc.add(ev);
        else if (ev.type === "done") {
          finished = true;
          c.get("obs").done(ev.usage);
          runInBackground(c, deps, touchMeta(conn, t.rid));
          afterEnd(c, deps, t);
          return c.json(acc.build(ev.usage));
        } else {
          finished = true;
          afterEnd(c, deps, t);
          throw new UpstreamError(ev.error.status, ev.error.type, ev.error.code, ev.error.message);
        }
      }
    }
    if (signal.reason === DRAIN_REASON) {
      // The edge stops before the answer is in: the client fetches it from another edge.
      throw new EdgeError("service_unavailable", `This edge is shutting down; fetch the answer by resuming with x-request-id: ${t.rid} and Last-Event-ID: 0.`, {
        retryAfterS: 1,
        headers: { connection: "close" },
      });
    }
    // The client went away before the end; nobody reads this response.
    return c.body(null, 499 as 400);
  } finally {
    untrack();
    if (!finished) cancelLater(c, deps, t, signal.aborted ? goneReason(signal) : "edge_error");
  }
}
