// Takeover after a crash: rebuild each choice's state from what the previous owner
// already wrote to out(rid), so the request continues without duplicated or missing
// text (README step 6).
import { ResponseEventSchema, type FinishReason, type ResponseEvent } from "../../contract/queue/messages.js";
import type { ChoiceState } from "./choice.js";

export interface PriorOutput {
  /** A terminal event was already written: the previous owner finished but did not ack. */
  terminal: ResponseEvent | undefined;
  /** Per choice index: ids sent, text sent, finish reason sent. */
  choices: Map<number, { tokenIds: number[]; text: string; finish: FinishReason | null }>;
}

export function readPriorOutput(raw: readonly unknown[]): PriorOutput {
  const prior: PriorOutput = { terminal: undefined, choices: new Map() };
  for (const r of raw) {
    const p = ResponseEventSchema.safeParse(r);
    if (!p.success) continue;
    const ev = p.data;
    if (ev.type !== "chunk") {
      prior.terminal = ev;
      continue;
    }
    for (const c of ev.choices) {
      let s = prior.choices.get(c.index);
      if (!s) prior.choices.set(c.index, (s = { tokenIds: [], text: "", finish: null }));
      s.tokenIds.push(...c.token_ids);
      s.text += c.text;
      if (c.finish_reason) s.finish = c.finish_reason;
    }
  }
  return prior;
}

/**
 * Replays the recorded ids through a fresh choice. Because ChoiceState processes one
 * token at a time its state depends only on the id sequence, so the replayed text
 * must equal the recorded text; returns false if it does not (a tokenizer mismatch
 * between pools), in which case the caller still continues from the recorded ids.
 */
export function replayChoice(choice: ChoiceState, prior: { tokenIds: number[]; text: string; finish: FinishReason | null }): boolean {
  const d = choice.accept(prior.tokenIds);
  let text = d?.text ?? "";
  if (prior.finish && !choice.finish) text += choice.complete(prior.finish)?.text ?? "";
  return text === prior.text;
}
