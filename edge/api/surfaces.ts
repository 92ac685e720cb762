// Picks the translator of the API a request came through (RequestMeta.kind),
// so the relay, and a resume on any edge, speak that API.
import type { RequestMeta } from "../queue.js";
import { AnthropicJson, CountTokensJson } from "../anthropic/json.js";
import { AnthropicStream } from "../anthropic/stream.js";
import { OpenAIJson } from "../openai/json.js";
import { OpenAIStream } from "../openai/stream.js";
import type { JsonTranslator, StreamTranslator } from "./translator.js";

export function streamTranslator(rid: string, meta: RequestMeta, resumed: boolean): StreamTranslator {
  if (meta.kind === "messages") return new AnthropicStream(rid, meta);
  return new OpenAIStream(rid, meta, resumed);
}

export function jsonTranslator(rid: string, meta: RequestMeta): JsonTranslator {
  if (meta.kind === "messages") return new AnthropicJson(rid, meta);
  if (meta.kind === "count_tokens") return new CountTokensJson();
  return new OpenAIJson(rid, meta, meta.logprobs);
}
