// Builds the TokenSpeed GenerateRequest for a job (wire §2.1, §2.4).
import type { Job } from "../../contract/queue/messages.js";
import type { GenerateRequestInit } from "../workers/client.js";
import type { ChoiceState } from "./choice.js";
import type { Constraint } from "./constraints.js";
import type { Prompt } from "./prompt.js";

export interface CallPlan {
  /** request_id sent to the worker (the rid, or rid-scoped when one call per choice). */
  requestId: string;
  inputIds: number[];
  originalText: string;
  n: number;
  /** Seed offset: the worker's child k samples with seed+k; a per-choice call for choice k uses k. */
  seedOffset: number;
  /** Remaining token budget, or null when the client gave no limit. */
  maxNewTokens: number | null;
  /** grammar constraint (constraints.ts) */
  constraint?: Constraint;
}

export function buildGenerateRequest(job: Job, plan: CallPlan): GenerateRequestInit {
  const s = job.sampling;
  return {
    requestId: plan.requestId,
    tokenized: { inputIds: plan.inputIds, originalText: plan.originalText },
    samplingParams: {
      // Optional scalars are forwarded only when present: set them whenever the client
      // gave them, so an explicit temperature 0 (greedy) reaches the engine.
      ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
      ...(s.top_p !== undefined ? { topP: s.top_p } : {}),
      ...(s.frequency_penalty !== undefined ? { frequencyPenalty: s.frequency_penalty } : {}),
      ...(s.presence_penalty !== undefined ? { presencePenalty: s.presence_penalty } : {}),
      ...(s.top_k !== undefined ? { topK: s.top_k } : {}),
      ...(plan.maxNewTokens !== null ? { maxNewTokens: plan.maxNewTokens } : {}),
      ...(s.logit_bias ? { logitBias: s.logit_bias } : {}),
      ...(plan.constraint ? { constraint: plan.constraint } : {}),
      n: plan.n,
      stop: s.stop,
      stopTokenIds: [],
      skipSpecialTokens: true,
      spacesBetweenSpecialTokens: true,
      // The proto has no seed field; the servicer ignores custom_params, the simulated
      // worker reads custom_params.seed (and a replay must reuse choice k's seed).
      customParams: { seed: (s.seed ?? 0) + plan.seedOffset },
    },
    // Output logprobs only (no input logprobs: logprob_start_len -1, as smg sends).
    returnLogprob: job.logprobs !== undefined,
    topLogprobsNum: job.logprobs?.top ?? 0,
    logprobStartLen: -1,
    stream: true,
  };
}

/**
 * The calls that continue `open` choices. Fresh request: one call with n choices.
 * Otherwise (resume or migration), one call per open choice with prompt + that
 * choice's ids, so each continues exactly.
 */
export function planCalls(
  rid: string,
  prompt: Prompt,
  all: readonly ChoiceState[],
  open: readonly ChoiceState[],
  limit: number | null,
  constraint: Constraint | undefined,
): { plan: CallPlan; choices: ChoiceState[] }[] {
  const fresh = open.length === all.length && all.every((c) => c.generated === 0);
  if (fresh) {
    return [{ plan: { requestId: rid, inputIds: prompt.ids, originalText: prompt.text, n: all.length, seedOffset: 0, maxNewTokens: limit, constraint }, choices: [...all] }];
  }
  return open.map((c) => ({
    plan: {
      requestId: open.length === 1 ? rid : `${rid}-c${c.index}`,
      inputIds: prompt.ids.concat(c.tokenIds),
      originalText: "",
      n: 1,
      seedOffset: c.index,
      maxNewTokens: limit === null ? null : limit - c.generated,
      constraint,
    },
    choices: [c],
  }));
}
