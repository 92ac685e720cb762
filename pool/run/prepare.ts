// Everything a run needs before its first Generate call, derived from the job
// and the model: the rendered prompt, the grammar constraint, and one choice
// state (stop strings, output parser, logprobs) per requested choice.
import type { ErrorInfo, Job } from "../../contract/queue/messages.js";
import { err, ok, type Result } from "../../contract/result.js";
import type { ModelTokenizer } from "../tokenizer/model-tokenizer.js";
import { ChoiceState } from "./choice.js";
import { constraintFor, type Constraint } from "./constraints.js";
import { errorInfo } from "./error-info.js";
import type { ModelProfile } from "./model-profile.js";
import { outputParserFor } from "./parsing.js";
import { renderPrompt, type Prompt, type PromptError } from "./prompt.js";

/** Renders and encodes a job's prompt elsewhere (tokenization threads); undefined = on this thread. */
export type PromptRenderer = (job: Job, contextLength: number | undefined) => Promise<Result<Prompt, PromptError | { code: "tokenizer_failed"; message: string }>>;

/** Below this many characters of content a prompt is rendered inline: a thread round trip would cost more. */
export const INLINE_PROMPT_CHARS = 4096;

function contentChars(job: Job): number {
  let n = job.prompt?.length ?? 0;
  for (const m of job.messages ?? []) n += (m.content?.length ?? 0) + (m.reasoning_content?.length ?? 0) + (m.tool_calls ? 64 * m.tool_calls.length : 0);
  if (job.tools?.length) n += INLINE_PROMPT_CHARS; // tool schemas make a long template
  return n;
}

export interface PreparedRun {
  prompt: Prompt;
  /** the constraint every call of this request carries */
  constraint: Constraint | undefined;
  choices: ChoiceState[];
}

export async function prepareRun(
  rid: string,
  job: Job,
  tok: ModelTokenizer,
  profile: ModelProfile | undefined,
  render?: PromptRenderer,
): Promise<Result<PreparedRun, ErrorInfo>> {
  const prompt = render && contentChars(job) >= INLINE_PROMPT_CHARS ? await render(job, profile?.contextLength) : renderPrompt(job, tok, profile?.contextLength);
  if (!prompt.ok) {
    if (prompt.error.code === "tokenizer_failed") return err(errorInfo(500, "tokenizer_failed", "The pool failed to tokenize the prompt. Please retry.", "server_error"));
    return err(errorInfo(400, prompt.error.code, prompt.error.message));
  }
  const constraint = constraintFor(job, profile?.toolFormat);
  if (!constraint.ok) return err(errorInfo(400, "invalid_request", constraint.error));
  const parserName = profile?.toolFormat ?? profile?.family;
  // A count job (count_tokens) has no choices: the run ends at once with usage = the prompt's
  // length, no worker is called, and its settle finds no reservation (none was made).
  const choices = Array.from(
    { length: job.count_only ? 0 : job.sampling.n },
    (_, i) =>
      new ChoiceState(i, tok, {
        stops: job.sampling.stop,
        parser: outputParserFor(job, parserName, rid, i, prompt.value.text),
        logprobs: job.logprobs !== undefined,
      }),
  );
  return ok({ prompt: prompt.value, constraint: constraint.value, choices });
}
