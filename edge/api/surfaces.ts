// Picks the translator of the API a request came through (RequestMeta.kind),
// so the relay, and a resume on any edge, speak that API; and the work an API
// does once a request has ended (the Responses API stores the response).
import type { Redis } from "ioredis";
import type { RequestMeta } from "../queue.js";
import { AnthropicJson, CountTokensJson } from "../anthropic/json.js";
import { AnthropicStream } from "../anthropic/stream.js";
import { OpenAIJson } from "../openai/json.js";
import { OpenAIStream } from "../openai/stream.js";
import { ResponsesJson } from "../responses/json.js";
import { finishStored } from "../responses/store.js";
import { ResponsesStream } from "../responses/stream.js";
import type { JsonTranslator, StreamTranslator } from "./translator.js";

/** `resumedAfter`: the client's Last-Event-ID on a resume, else null. */
export function streamTranslator(rid: string, meta: RequestMeta, resumedAfter: string | null): StreamTranslator {
  if (meta.kind === "responses") return new ResponsesStream(rid, meta, resumedAfter);
  if (meta.kind === "messages") return new AnthropicStream(rid, meta, resumedAfter);
  return new OpenAIStream(rid, meta, resumedAfter !== null);
}

export function jsonTranslator(rid: string, meta: RequestMeta): JsonTranslator {
  if (meta.kind === "responses") return new ResponsesJson(rid, meta);
  if (meta.kind === "messages") return new AnthropicJson(rid, meta);
  if (meta.kind === "count_tokens") return new CountTokensJson();
  return new OpenAIJson(rid, meta, meta.logprobs);
}

/** What to run (in the background, on its own connection) once the request's terminal event is in, if anything. */
export function endHook(rid: string, meta: RequestMeta): ((redis: Redis) => Promise<unknown>) | undefined {
  if (meta.kind === "responses" && meta.echo?.store === true) return (redis) => finishStored(redis, meta.tenant_id, rid);
  return undefined;
}
