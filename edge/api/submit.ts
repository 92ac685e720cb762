// Admits and queues one internal request, whatever API it came through, then
// relays its response stream in that API's shape: model permission, the
// model's limits, quota admission, the Job and the request meta, enqueue.
import type { Context } from "hono";
import type { Job } from "../../contract/queue/messages.js";
import type { AdmissionDecision, AdmissionRequest } from "../admission.js";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";
import { EdgeError } from "../errors.js";
import { deleteMeta, writeMetaAndEnqueue, type RequestMeta } from "../queue.js";
import { relayJSON, relaySSE, wantsResume } from "../relay.js";
import { promptUpperBound, type InternalRequest } from "./internal-request.js";
import { checkFits } from "./prompt-fit.js";
import type { Operation } from "../metrics.js";

export interface Surface {
  kind: RequestMeta["kind"];
  /** the OpenTelemetry GenAI operation name for metrics and logs */
  operation: Operation;
  /** the body field that sets the output limit, for errors about it */
  maxTokensParam: string;
  /** the body field holding the prompt, for errors about its length (default: prompt / messages) */
  promptParam?: string;
  /** fields the API's response objects echo (RequestMeta.echo) */
  echo?: Record<string, unknown>;
  /** the API's own rate-limit headers, derived from our x-ratelimit-* ones (sent beside them) */
  rateLimitHeaders?(headers: Record<string, string>, now: number): Record<string, string>;
  /**
   * Tokenize only (count_tokens): the pool answers with the prompt's length. Nothing is
   * generated, so nothing is reserved or charged at admission (README: count_tokens).
   */
  countOnly?: boolean;
}

export async function submit(c: Context<EdgeEnv>, deps: ResolvedDeps, req: InternalRequest, surface: Surface): Promise<Response> {
  const { model, stream } = req;
  const conn = c.get("conn");
  // On a single Redis the admission goes out with the enqueue, in one round trip, and
  // can confirm a cached key record (edge/key-guard.ts); otherwise the record is read now.
  const pipelines = !surface.countOnly && !conn.isCluster && deps.admission.pipelined !== undefined;
  const guard = c.get("keyGuard");
  if (guard && !guard.confirmed && !pipelines) await guard.confirm();
  const keyGuard = guard && !guard.confirmed ? { key: guard.key, value: guard.value } : undefined;
  const key = c.get("keyRecord");
  const tenant = c.get("tenant");
  if (key.models !== null && !key.models.includes(model)) {
    throw new EdgeError("permission_denied", `This API key may not use the model '${model}'.`, { param: "model" });
  }
  const served = await deps.models.findForRequest(conn, model);
  if (!served) {
    throw new EdgeError("model_not_found", `The model '${model}' does not exist or is not being served right now.`, { param: "model" });
  }

  const obs = c.get("obs");
  obs.model = model;
  obs.operation = surface.operation;
  obs.tenant = tenant.id;
  obs.stream = stream;

  const rid = c.get("requestId");
  const now = deps.now();
  const sampling = req.sampling;
  const n = sampling.n;
  // Without a client limit the request gets the configured default (capped by the
  // model's context), so what it may generate is known and reserved at admission,
  // and a resumed request stops where an unbroken one would.
  const context = served.contextLength;
  // A prompt that cannot fit whatever its tokenization is refused here, before it is
  // queued and tokenized.
  checkFits(req, served, surface);
  if (!surface.countOnly) sampling.max_tokens ??= context === undefined ? deps.config.defaultReserveOutputTokens : Math.min(deps.config.defaultReserveOutputTokens, context - 1);
  // An upper bound of the prompt's tokens (never an estimate that can fall short), so a
  // tokens-per-minute limit holds exactly: settlement only ever refunds.
  // (A count job has no output: its prompt bound is its cost in the fair queue, and it is never admitted or settled.)
  const reserved = promptUpperBound(req.payload) + (sampling.max_tokens ?? 0) * n;
  const admissionReq: AdmissionRequest = { requestId: rid, tenant, key, model, reservedTokens: reserved, now, ...(keyGuard ? { keyGuard } : {}) };
  const apply = (decision: AdmissionDecision) => {
    for (const [h, v] of Object.entries(decision.headers)) c.header(h, v);
    for (const [h, v] of Object.entries(surface.rateLimitHeaders?.(decision.headers, now) ?? {})) c.header(h, v);
    if (!decision.ok) throw new EdgeError(decision.code, decision.message, { retryAfterS: decision.retryAfterS });
  };
  const pipelined = pipelines ? deps.admission.pipelined?.(conn, admissionReq) : undefined;
  let keyScoped = false;
  if (pipelined) keyScoped = pipelined.keyScoped;
  else if (!surface.countOnly) {
    const decision = await deps.admission.admit(conn, admissionReq);
    apply(decision);
    keyScoped = decision.ok && decision.keyScoped;
  }

  const deadline = now + deps.config.queueDeadlineMs;
  const job: Job = {
    id: rid,
    tenant_id: tenant.id,
    key_id: key.key_id,
    model,
    kind: req.payload.prompt !== undefined ? "completion" : "chat",
    ...req.payload,
    ...(surface.countOnly ? { count_only: true } : {}),
    sampling,
    stream,
    enqueued_at: now,
    deadline_at: deadline,
    reserved_tokens: reserved,
    admitted_at: now,
    key_scoped: keyScoped,
    weight: tenant.priority,
    attempt: 0,
  };
  const meta: RequestMeta = {
    tenant_id: tenant.id,
    model,
    kind: surface.kind,
    stream,
    include_usage: req.includeUsage,
    n,
    logprobs: req.payload.logprobs !== undefined,
    created: Math.floor(now / 1000),
    deadline_at: deadline,
    ...(surface.echo ? { echo: surface.echo } : {}),
  };
  const maxQueued = tenant.limits.max_queued_requests ?? deps.config.defaultMaxQueued;
  const { position, decision } = await writeMetaAndEnqueue(conn, meta, job, maxQueued, deps.streams.pushChannel, pipelined);
  if (decision?.ok === false && decision.code === "stale_key") {
    // The key's record changed or is gone (nothing was admitted or queued): read it
    // again, which throws the 401 for a key no longer usable, and start over with it.
    await guard!.confirm();
    return submit(c, deps, req, surface);
  }
  if (guard) guard.confirmed = true; // the guard passed: this is the stored record
  if (decision) apply(decision); // refused: the enqueue's gate deleted the meta and queued nothing
  if (position === null) {
    await deleteMeta(conn, rid);
    if (!surface.countOnly) await deps.admission.release(conn, admissionReq, keyScoped);
    throw new EdgeError("queue_full", `Too many queued requests for this tenant (limit ${maxQueued}). Retry later.`, {
      retryAfterS: deps.config.retryAfterS,
    });
  }
  const target = { rid, meta, afterId: "0", position, attach: 1, resumable: wantsResume(c) };
  return stream ? relaySSE(c, deps, target) : relayJSON(c, deps, target);
}
