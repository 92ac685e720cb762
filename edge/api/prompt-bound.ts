// Bounds of a prompt's tokens, known at admission before any tokenizer runs.
// Upper: byte-level BPE (Qwen, Llama 3, GPT) never produces more tokens than
// UTF-8 bytes, so bytes + the chat template's own tokens bound the prompt's
// size; reservations use it so a tokens-per-minute limit holds exactly
// (settlement only ever refunds). Lower: promptTokensFloor, so a prompt far over
// the model's context is refused before it is queued.
import type { PromptLengthBounds } from "../../contract/prompt-bounds.js";

/** The UTF-8 length of `s` as encoded: a lone surrogate (JSON strings may hold one) becomes U+FFFD, 3 bytes. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Template tokens per message (role markers, newlines) and per prompt (generation prefix). */
export const TEMPLATE_TOKENS_PER_MESSAGE = 8;
export const TEMPLATE_TOKENS_BASE = 16;
/** The tool-use instructions a chat template adds when tools are given. */
export const TEMPLATE_TOKENS_TOOLS = 512;

/** What the edge knows of a model's tokenizer (edge/models.ts). */
export interface TokenizerLimits {
  maxTokenBytes?: number;
  bounds?: PromptLengthBounds;
}

/**
 * A floor of the tokens a prompt certainly has once rendered, known without the
 * tokenizer: counted on the completion prompt, or on the user messages' text trimmed
 * (a template may trim; other roles' text may be rewritten). With the model's bounds
 * (contract/prompt-bounds.ts) each message is bounded on its own, less 2 tokens for
 * its two edges, where a token or pre-token of the rendered prompt may span the
 * message and the template around it; without them, stable ASCII bytes over the
 * longest token. Stops counting once over `budget` (the pool still checks exactly).
 */
export function promptTokensFloor(payload: { prompt?: string; messages?: readonly { role: string; content?: string | null }[] }, model: TokenizerLimits, budget: number): number {
  if (payload.prompt !== undefined) {
    if (model.bounds) return model.bounds.lowerBound(payload.prompt, budget);
    return model.maxTokenBytes ? Math.ceil(stableBytes(payload.prompt) / model.maxTokenBytes) : 0;
  }
  const pieces: string[] = [];
  for (const m of payload.messages ?? []) if (m.role === "user" && m.content) pieces.push(m.content.trim());
  let n = 0;
  if (model.bounds) {
    for (const p of pieces) {
      n += Math.max(0, model.bounds.lowerBound(p, budget - n + 2) - 2);
      if (n > budget) break;
    }
    return n;
  }
  if (!model.maxTokenBytes) return 0;
  for (const p of pieces) n += stableBytes(p);
  return Math.ceil(n / model.maxTokenBytes);
}

/** ASCII characters followed by ASCII (or the end): unchanged by any Unicode normal form. */
function stableBytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x80 && (i + 1 === s.length || s.charCodeAt(i + 1) < 0x80)) n++;
  return n;
}
