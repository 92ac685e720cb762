// POST /v1/chat/completions and POST /v1/completions: validate, authorize the
// model, admit, enqueue the Job, then relay the response stream.
//
// Resume design: a client whose SSE connection dropped re-POSTs to the same
// endpoint with the headers `x-request-id: <id of the original response>` and
// `Last-Event-ID: <last SSE id it received>` (the body is ignored: nothing is
// enqueued again). The edge checks that the request belongs to the caller's
// tenant (keys.meta(rid).tenant_id; anything else is the same 404 as an
// unknown id, so ids of other tenants cannot even be probed) and relays the
// stream's entries after that id. `Last-Event-ID: 0` replays from the start,
// which also fetches the result of a non-streaming request whose connection dropped.
import { Hono, type Context } from "hono";
import type { Job } from "../../contract/queue/messages.js";
import type { AdmissionRequest } from "../admission.js";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";
import { EdgeError } from "../errors.js";
import {
  ChatCompletionRequestSchema,
  CompletionRequestSchema,
  flattenContent,
  parseBody,
  type ChatCompletionRequest,
  type CompletionRequest,
} from "../openai/schemas.js";
import { attachCount, deleteMeta, readMeta, writeMetaAndEnqueue, type RequestMeta } from "../queue.js";
import { relayJSON, relaySSE } from "../relay.js";
import { isStreamId } from "../streams/reader.js";

type Kind = "chat" | "completion";

export function completionRoutes(deps: ResolvedDeps): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.post("/chat/completions", (c) => handle(c, deps, "chat"));
  app.post("/completions", (c) => handle(c, deps, "completion"));
  return app;
}

async function handle(c: Context<EdgeEnv>, deps: ResolvedDeps, kind: Kind): Promise<Response> {
  const lastEventId = c.req.header("last-event-id");
  if (lastEventId !== undefined) return resume(c, deps, kind, lastEventId.trim());

  const body = await readJson(c, deps.config.maxBodyBytes);
  const parsed = kind === "chat" ? chatJob(parseBody(ChatCompletionRequestSchema, body)) : completionJob(parseBody(CompletionRequestSchema, body));
  const { model, stream, includeUsage, promptBound } = parsed;

  const key = c.get("keyRecord");
  const tenant = c.get("tenant");
  if (key.models !== null && !key.models.includes(model)) {
    throw new EdgeError("permission_denied", `This API key may not use the model '${model}'.`, { param: "model" });
  }
  if (!(await deps.models.find(c.get("conn"), model))) {
    throw new EdgeError("model_not_found", `The model '${model}' does not exist or is not being served right now.`, { param: "model" });
  }

  const obs = c.get("obs");
  obs.model = model;
  obs.operation = kind === "chat" ? "chat" : "text_completion";
  obs.tenant = tenant.id;
  obs.stream = stream;

  const rid = c.get("requestId");
  const now = deps.now();
  const n = parsed.sampling.n;
  // Without a client limit the request gets the configured default, so what it may
  // generate is known (and reserved) at admission, and a resumed request stops where
  // an unbroken one would.
  parsed.sampling.max_tokens ??= deps.config.defaultReserveOutputTokens;
  // An upper bound of the prompt's tokens (never an estimate that can fall short), so a
  // tokens-per-minute limit holds exactly: settlement only ever refunds.
  const reserved = promptBound + parsed.sampling.max_tokens * n;
  const admissionReq: AdmissionRequest = { requestId: rid, tenant, key, model, reservedTokens: reserved, now };
  const conn = c.get("conn");
  const decision = await deps.admission.admit(conn, admissionReq);
  for (const [h, v] of Object.entries(decision.headers)) c.header(h, v);
  if (!decision.ok) {
    throw new EdgeError(decision.code, decision.message, { retryAfterS: decision.retryAfterS });
  }

  const deadline = now + deps.config.queueDeadlineMs;
  const job: Job = {
    id: rid,
    tenant_id: tenant.id,
    key_id: key.key_id,
    model,
    kind,
    ...parsed.payload,
    sampling: parsed.sampling,
    stream,
    enqueued_at: now,
    deadline_at: deadline,
    reserved_tokens: reserved,
    admitted_at: now,
    key_scoped: decision.keyScoped,
    weight: tenant.priority,
    attempt: 0,
  };
  const meta: RequestMeta = {
    tenant_id: tenant.id,
    model,
    kind,
    stream,
    include_usage: includeUsage,
    n,
    created: Math.floor(now / 1000),
    deadline_at: deadline,
  };
  const maxQueued = tenant.limits.max_queued_requests ?? deps.config.defaultMaxQueued;
  const position = await writeMetaAndEnqueue(conn, meta, job, maxQueued);
  if (position === null) {
    await deleteMeta(conn, rid);
    await deps.admission.release(conn, admissionReq, decision.keyScoped);
    throw new EdgeError("queue_full", `Too many queued requests for this tenant (limit ${maxQueued}). Retry later.`, {
      retryAfterS: deps.config.retryAfterS,
    });
  }
  const target = { rid, meta, afterId: "0", position, attach: 1 };
  return stream ? relaySSE(c, deps, target) : relayJSON(c, deps, target);
}

const RID = { chat: /^chatcmpl-[A-Za-z0-9_-]{1,128}$/, completion: /^cmpl-[A-Za-z0-9_-]{1,128}$/ };

async function resume(c: Context<EdgeEnv>, deps: ResolvedDeps, kind: Kind, lastEventId: string): Promise<Response> {
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
  const meta = RID[kind].test(rid) ? await readMeta(conn, rid) : null;
  if (meta === null || meta.tenant_id !== c.get("tenant").id || meta.kind !== kind) {
    throw new EdgeError("not_found", `No response '${rid}' to resume for this API key.`, { param: "x-request-id" });
  }
  c.set("requestId", rid);
  c.header("x-request-id", rid);
  const obs = c.get("obs");
  obs.model = meta.model;
  obs.operation = kind === "chat" ? "chat" : "text_completion";
  obs.tenant = meta.tenant_id;
  obs.stream = meta.stream;
  obs.resumed = true;
  const attach = await attachCount(conn, rid, true);
  const target = { rid, meta, afterId: lastEventId, position: null, attach };
  return meta.stream ? relaySSE(c, deps, target) : relayJSON(c, deps, target);
}

/** Reads the body as JSON, enforcing the size limit even without Content-Length (chunked uploads). */
async function readJson(c: Context<EdgeEnv>, maxBytes: number): Promise<unknown> {
  const tooLarge = () => new EdgeError("payload_too_large", `The request body exceeds ${maxBytes} bytes.`);
  const declared = Number(c.req.header("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const body = c.req.raw.body;
  if (!body) throw new EdgeError("invalid_json", "The request body is empty; send a JSON object.");
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    parts.push(value);
  }
  const bytes = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.byteLength;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new EdgeError("invalid_json", "The request body is not valid UTF-8.");
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new EdgeError("invalid_json", `We could not parse the JSON body of your request. (${(err as Error).message})`);
  }
}

interface ParsedJob {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  promptBound: number;
  sampling: Job["sampling"];
  payload: Pick<Job, "messages" | "tools" | "chat_template_kwargs" | "prompt">;
}

function sampling(req: ChatCompletionRequest | CompletionRequest, maxTokens: number | null | undefined): Job["sampling"] {
  const stop = req.stop == null ? [] : typeof req.stop === "string" ? [req.stop] : req.stop;
  const s: Job["sampling"] = { max_tokens: maxTokens ?? null, stop, n: req.n ?? 1 };
  if (req.temperature != null) s.temperature = req.temperature;
  if (req.top_p != null) s.top_p = req.top_p;
  if (req.seed != null) s.seed = req.seed;
  if (req.frequency_penalty != null) s.frequency_penalty = req.frequency_penalty;
  if (req.presence_penalty != null) s.presence_penalty = req.presence_penalty;
  return s;
}

function common(req: ChatCompletionRequest | CompletionRequest) {
  const stream = req.stream === true;
  return { model: req.model, stream, includeUsage: stream && req.stream_options?.include_usage === true };
}

/**
 * Byte-level BPE (Qwen, Llama 3, GPT) never produces more tokens than UTF-8
 * bytes, so bytes + the chat template's own tokens bound the prompt's size.
 */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
/** Template tokens per message (role markers, newlines) and per prompt (generation prefix). */
const TEMPLATE_TOKENS_PER_MESSAGE = 8;
const TEMPLATE_TOKENS_BASE = 16;
/** The tool-use instructions a chat template adds when tools are given. */
const TEMPLATE_TOKENS_TOOLS = 512;

function chatJob(req: ChatCompletionRequest): ParsedJob {
  let bound = TEMPLATE_TOKENS_BASE;
  const messages = req.messages.map((m, i) => {
    const content = flattenContent(m.content, `messages.${i}.content`);
    if (content === null && m.role !== "assistant") {
      throw new EdgeError("invalid_request", `Messages with role '${m.role}' must have content.`, { param: `messages.${i}.content` });
    }
    bound += TEMPLATE_TOKENS_PER_MESSAGE + utf8Length(content ?? "") + utf8Length(m.name ?? "");
    const msg: NonNullable<Job["messages"]>[number] = { role: m.role, content };
    if (m.name !== undefined) msg.name = m.name;
    if (m.tool_calls !== undefined) {
      msg.tool_calls = m.tool_calls;
      bound += utf8Length(JSON.stringify(m.tool_calls));
    }
    if (m.tool_call_id !== undefined) msg.tool_call_id = m.tool_call_id;
    return msg;
  });
  const payload: ParsedJob["payload"] = { messages };
  if (req.tools) {
    payload.tools = req.tools.map((t) => ({
      type: "function",
      function: {
        name: t.function.name,
        ...(t.function.description !== undefined ? { description: t.function.description } : {}),
        ...(t.function.parameters !== undefined ? { parameters: t.function.parameters } : {}),
      },
    }));
    bound += TEMPLATE_TOKENS_TOOLS + utf8Length(JSON.stringify(req.tools));
  }
  if (req.chat_template_kwargs) payload.chat_template_kwargs = req.chat_template_kwargs;
  return { ...common(req), promptBound: bound, sampling: sampling(req, req.max_completion_tokens ?? req.max_tokens), payload };
}

function completionJob(req: CompletionRequest): ParsedJob {
  let prompt: string;
  if (typeof req.prompt === "string") prompt = req.prompt;
  else if (req.prompt.length === 1) prompt = req.prompt[0]!;
  else throw new EdgeError("invalid_request", "Exactly one prompt per request is supported (no batches).", { param: "prompt" });
  return { ...common(req), promptBound: utf8Length(prompt), sampling: sampling(req, req.max_tokens), payload: { prompt } };
}
