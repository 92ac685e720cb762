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

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * A token as the legacy completions API spells it: its text, or, when its bytes
 * are only part of a character, OpenAI's `bytes:\xNN…` form (so no byte is lost
 * to a replacement character).
 */
function legacyToken(e: { bytes: readonly number[] }): string {
  const bytes = Uint8Array.from(e.bytes);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return "bytes:" + Array.from(bytes, (b) => "\\x" + b.toString(16).padStart(2, "0")).join("");
  }
}

/** The legacy completions `logprobs` object; `offset` is the text length before these tokens. */
export function completionLogprobs(entries: readonly LogprobEntry[], offset: number) {
  // A token's offset is where its first whole character lands in the text: count the
  // characters the bytes so far complete (a streaming decoder holds partial ones back).
  const text_offset: number[] = [];
  const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  let at = offset;
  for (const e of entries) {
    text_offset.push(at);
    at += decoder.decode(Uint8Array.from(e.bytes), { stream: true }).length;
  }
  return {
    tokens: entries.map(legacyToken),
    token_logprobs: entries.map((e) => e.logprob),
    top_logprobs: entries.map((e) => Object.fromEntries(e.top.map((t) => [legacyToken(t), t.logprob]))),
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
