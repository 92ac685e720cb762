// Deterministic OutputLogProbs for generated tokens (wire doc: per-chunk slice
// aligned with token_ids, one TopLogProbs per position). Values are a pure
// function of (request hash, position, token) so stream and non-stream agree.
// The chosen token is always the most likely one: p in [0.35, 0.99], the k-1
// alternatives share the remaining mass geometrically, so every list is sorted
// descending, starts with the chosen token, and sums to at most 1.
import { fmix32 } from "../text-model.js";

/** First id past Qwen3's BPE vocab: alternatives stay ordinary tokens. */
const ORDINARY_VOCAB = 151643;

const mix = fmix32;

function chosenProb(base: number, pos: number, id: number): number {
  const u = mix(base ^ Math.imul(pos + 1, 0x9e3779b1) ^ mix(id)) / 4294967296;
  return 0.35 + 0.64 * u;
}

export interface LogprobsInit {
  tokenLogprobs: number[];
  tokenIds: number[];
  topLogprobs: { values: number[]; tokenIds: number[] }[];
}

/** Logprobs for `ids`, the generated tokens at output positions start, start+1, … */
export function outputLogprobs(base: number, start: number, ids: readonly number[], topK: number): LogprobsInit {
  const out: LogprobsInit = { tokenLogprobs: [], tokenIds: [], topLogprobs: [] };
  ids.forEach((id, j) => {
    const pos = start + j;
    const p = chosenProb(base, pos, id);
    const lp = Math.log(p);
    out.tokenLogprobs.push(lp);
    out.tokenIds.push(id);
    const values: number[] = [];
    const alts: number[] = [];
    if (topK > 0) {
      values.push(lp);
      alts.push(id);
      let h = mix(base + pos * 31 + id);
      for (let i = 1; i < topK; i++) {
        let alt: number;
        do {
          h = mix(h + i);
          alt = h % ORDINARY_VOCAB;
        } while (alts.includes(alt));
        alts.push(alt);
        values.push(Math.log((1 - p) * 0.9 * 0.5 ** i));
      }
    }
    out.topLogprobs.push({ values, tokenIds: alts });
  });
  return out;
}
