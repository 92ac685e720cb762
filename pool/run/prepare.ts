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
import { renderPrompt, type Prompt } from "./prompt.js";

export interface PreparedRun {
  prompt: Prompt;
  /** the constraint every call of this request carries */
  constraint: Constraint | undefined;
  choices: ChoiceState[];
}

export function prepareRun(rid: string, job: Job, tok: ModelTokenizer, profile: ModelProfile | undefined): Result<PreparedRun, ErrorInfo> {
  const prompt = renderPrompt(job, tok, profile?.contextLength);
  if (!prompt.ok) return err(errorInfo(400, prompt.error.code, prompt.error.message));
  const constraint = constraintFor(job, profile?.toolFormat);
  if (!constraint.ok) return err(errorInfo(400, "invalid_request", constraint.error));
  const parserName = profile?.toolFormat ?? profile?.family;
  const choices = Array.from(
    { length: job.sampling.n },
    (_, i) =>
      new ChoiceState(i, tok, {
        stops: job.sampling.stop,
        parser: outputParserFor(job, parserName, rid, i, prompt.value.text),
        logprobs: job.logprobs !== undefined,
      }),
  );
  return ok({ prompt: prompt.value, constraint: constraint.value, choices });
}
