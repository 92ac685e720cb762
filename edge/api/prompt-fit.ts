// Whether a request can fit the model's context at all, known before it is queued:
// its output limit, and a lower bound of its prompt's tokens (prompt-bound.ts). Shared
// by submit and by the Node edge's body-check threads (edge/node/body-check.ts), so a
// refusal reads the same wherever it is decided.
import { EdgeError } from "../errors.js";
import type { InternalRequest } from "./internal-request.js";
import { promptTokensFloor, type TokenizerLimits } from "./prompt-bound.js";

/** The body fields a refusal names. */
export interface FitParams {
  /** the body field that sets the output limit */
  maxTokensParam: string;
  /** the body field holding the prompt (default: prompt / messages) */
  promptParam?: string;
}

/** Throws context_length_exceeded when `req` cannot fit a context of `context` tokens. */
export function checkFits(req: InternalRequest, model: TokenizerLimits & { contextLength?: number }, params: FitParams): void {
  const context = model.contextLength;
  if (context === undefined) return;
  const maxTokens = req.sampling.max_tokens;
  if (maxTokens !== null && maxTokens >= context) {
    throw new EdgeError(
      "context_length_exceeded",
      `This model's maximum context length is ${context} tokens. However, you requested ${maxTokens} output tokens. Please reduce the length of the messages or completion.`,
      { param: params.maxTokensParam },
    );
  }
  const out = maxTokens ?? 1;
  const floor = promptTokensFloor(req.payload, model, context - out);
  if (floor + out > context) {
    throw new EdgeError(
      "context_length_exceeded",
      `This model's maximum context length is ${context} tokens. However, your prompt has at least ${floor} tokens. Please reduce the length of the messages or completion.`,
      { param: params.promptParam ?? (req.payload.prompt !== undefined ? "prompt" : "messages") },
    );
  }
}
