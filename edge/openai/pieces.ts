// Shapes shared by OpenAI's streamed and non-streamed chat/completions objects:
// usage, logprobs (chat and legacy completions forms) and tool-call pieces.
import type { LogprobEntry, ToolCallDelta, Usage } from "../../contract/queue/messages.js";

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

export function toOpenAIUsage(u: Usage): OpenAIUsage {
  const out: OpenAIUsage = {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.prompt_tokens + u.completion_tokens,
    prompt_tokens_details: { cached_tokens: u.cached_tokens },
  };
  if (u.reasoning_tokens !== undefined) out.completion_tokens_details = { reasoning_tokens: u.reasoning_tokens };
  return out;
}

/** Chat's `logprobs.content[]` entries. */
export function chatLogprobs(entries: readonly LogprobEntry[]) {
  return entries.map((e) => ({
    token: e.token,
    logprob: e.logprob,
    bytes: e.bytes,
    top_logprobs: e.top.map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes })),
  }));
}

/** The legacy completions `logprobs` object; `offset` is the text length before these tokens. */
export function completionLogprobs(entries: readonly LogprobEntry[], offset: number) {
  const text_offset: number[] = [];
  let at = offset;
  for (const e of entries) {
    text_offset.push(at);
    at += e.token.length;
  }
  return {
    tokens: entries.map((e) => e.token),
    token_logprobs: entries.map((e) => e.logprob),
    top_logprobs: entries.map((e) => Object.fromEntries(e.top.map((t) => [t.token, t.logprob]))),
    text_offset,
  };
}

/** A streamed `delta.tool_calls[]` item: the first piece of a call names it, later ones add arguments. */
export function toolCallDelta(p: ToolCallDelta): object {
  if (p.id !== undefined) {
    return { index: p.index, id: p.id, type: "function", function: { name: p.name ?? "", arguments: p.arguments ?? "" } };
  }
  return { index: p.index, function: { arguments: p.arguments ?? "" } };
}
