// A job's prompt: the chat template rendered with its tools and thinking
// switch (or a completion's raw text), encoded, and checked against the
// model's context before any worker sees it.
import type { Job } from "../../contract/queue/messages.js";
import { err, ok, type Result } from "../../contract/result.js";
import type { ModelTokenizer } from "../tokenizer/model-tokenizer.js";

export interface Prompt {
  ids: number[];
  text: string;
  /** wall ms spent rendering the chat template and encoding (where the run's CPU goes) */
  timing?: { templateMs: number; tokenizeMs: number };
}

export type PromptError = { code: "invalid_prompt" | "context_length_exceeded"; message: string };

export function renderPrompt(job: Job, tok: ModelTokenizer, contextLength: number | undefined): Result<Prompt, PromptError> {
  const t0 = performance.now();
  let text: string;
  if (job.kind === "chat") {
    const r = tok.renderChat({
      messages: job.messages ?? [],
      tools: job.tools,
      // Thinking is off unless the client asked for it (reasoning effort or enable_thinking).
      kwargs: { ...(job.chat_template_kwargs ?? {}), enable_thinking: job.thinking === true },
    });
    if (!r.ok) return err({ code: "invalid_prompt", message: r.error });
    text = r.value;
  } else {
    text = job.prompt ?? "";
  }
  const t1 = performance.now();
  const max = job.sampling.max_tokens ?? 0;
  // Encoding stops once the prompt is known not to fit (a 1 MB prompt is refused from a
  // cheap lower bound, not after tokenizing all of it).
  const r = contextLength === undefined ? { ok: true as const, ids: tok.encode(text) } : tok.encodeWithin(text, Math.max(0, contextLength - max));
  if (!r.ok) {
    return err({
      code: "context_length_exceeded",
      message: `This model's maximum context length is ${contextLength} tokens. However, you requested at least ${r.atLeast + max} tokens (at least ${r.atLeast} in the messages, ${max} in the completion). Please reduce the length of the messages or completion.`,
    });
  }
  const ids = r.ids;
  if (ids.length === 0) return err({ code: "invalid_prompt", message: "the prompt is empty" });
  return ok({ ids, text, timing: { templateMs: t1 - t0, tokenizeMs: performance.now() - t1 } });
}
