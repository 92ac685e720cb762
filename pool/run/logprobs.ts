// The worker's logprobs of one token (OutputLogProbs, aligned with a chunk's
// token_ids) -> the internal event's entry: each token's text and raw bytes
// (a token may hold part of a character: its bytes say which), its logprob
// and its top alternatives.
import type { LogprobEntry } from "../../contract/queue/messages.js";
import type { ModelTokenizer } from "../tokenizer/model-tokenizer.js";

/** What a chunk or complete brings: per position the chosen token's logprob and the top alternatives. */
export interface TokenLogprobs {
  tokenLogprobs: readonly number[];
  top: readonly { values: readonly number[]; tokenIds: readonly number[] }[];
}

const text = new TextDecoder("utf-8", { fatal: false });

function tokenLogprob(tok: ModelTokenizer, id: number, logprob: number) {
  const bytes = tok.tokenBytes(id);
  return { token: text.decode(bytes), logprob, bytes: Array.from(bytes) };
}

/** Entry for position `i` of `lp` (token id `id` = the chunk's i-th id). */
export function logprobEntry(tok: ModelTokenizer, lp: TokenLogprobs, i: number, id?: number): LogprobEntry {
  const top = lp.top[i];
  const alternatives = top ? top.tokenIds.map((tid, k) => tokenLogprob(tok, tid, top.values[k] ?? -Infinity)) : [];
  const chosen = id ?? top?.tokenIds[0];
  const base = chosen === undefined ? { token: "", logprob: lp.tokenLogprobs[i] ?? 0, bytes: [] } : tokenLogprob(tok, chosen, lp.tokenLogprobs[i] ?? 0);
  return { ...base, top: alternatives };
}
