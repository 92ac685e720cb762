// A run's usage as the client is billed for it: the prompt, every choice's
// generated tokens (reasoning counted apart when the request could think), and
// the prompt tokens the worker had cached.
import type { Usage } from "../../contract/queue/messages.js";
import type { ChoiceState } from "./choice.js";

export function usageOf(promptTokens: number, cachedTokens: number, choices: readonly ChoiceState[], thinking: boolean): Usage {
  const usage: Usage = {
    prompt_tokens: promptTokens,
    completion_tokens: choices.reduce((a, c) => a + c.generated, 0),
    cached_tokens: Math.min(cachedTokens, promptTokens),
  };
  const reasoning = choices.reduce((a, c) => a + c.reasoningTokens, 0);
  if (reasoning > 0 || thinking) usage.reasoning_tokens = reasoning;
  return usage;
}
