// Encodes a prompt only as far as the model's budget: cheap lower bounds first
// (length-bound.ts), then the text's segments one by one (the segment cache's
// pieces, whose ids concatenate exactly), and a segment larger than what is left
// is first counted window by window, stopping as soon as it is over. The ids
// returned when the prompt fits are always those of a whole-text encode.
import type { PromptLengthBounds } from "../../contract/prompt-bounds.js";
import type { SegmentTokenCache } from "./segment-cache.js";

export type BoundedIds = { ok: true; ids: number[] } | { ok: false; atLeast: number };

export interface BoundedEncoder {
  bounds?: PromptLengthBounds;
  cache?: SegmentTokenCache;
  encodeRaw(text: string): number[];
}

/** Window size (UTF-16 units) for counting a large segment. */
export const COUNT_WINDOW = 8192;

export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;

/**
 * Tokens of `seg`, counted window by window, stopping once the count (minus a margin for
 * the cuts) is over `budget`. Windows end before a " word" when one is near (where
 * byte-level pre-tokenizers split anyway); a cut elsewhere may change a token or two,
 * hence the margin: the result stays a lower bound when it is over the budget.
 */
export function countWindowed(seg: string, budget: number, encodeRaw: (t: string) => number[], window = COUNT_WINDOW): number {
  let count = 0;
  let margin = 0;
  let pos = 0;
  while (pos < seg.length) {
    let end = Math.min(seg.length, pos + window);
    if (end < seg.length) {
      let soft = -1;
      for (let b = end; b > end - 1024 && b > pos + 1; b--) {
        if (seg.charCodeAt(b) === 0x20 && !isSpace(seg.charCodeAt(b - 1)) && b + 1 < seg.length && !isSpace(seg.charCodeAt(b + 1))) {
          soft = b;
          break;
        }
      }
      if (soft > 0) {
        end = soft;
        margin += 1;
      } else {
        const c = seg.charCodeAt(end - 1);
        if (c >= 0xd800 && c <= 0xdbff) end--; // never split a surrogate pair
        margin += 2;
      }
    }
    count += encodeRaw(seg.slice(pos, end)).length;
    pos = end;
    if (count - margin > budget) return count - margin;
  }
  return count - margin;
}

export function encodeWithin(text: string, budget: number, enc: BoundedEncoder): BoundedIds {
  const encodeSeg = (s: string) => (enc.cache ? enc.cache.encodeSegment(s) : enc.encodeRaw(s));
  const bytes = utf8Length(text);
  if (bytes > budget) {
    const lb = enc.bounds?.lowerBound(text, budget) ?? 0;
    if (lb > budget) return { ok: false, atLeast: lb };
  }
  const out: number[] = [];
  for (const seg of enc.cache ? enc.cache.segments(text) : [text]) {
    const left = budget - out.length;
    if (!enc.cache?.peek(seg) && seg.length > COUNT_WINDOW && utf8Length(seg) > left) {
      const n = countWindowed(seg, left, enc.encodeRaw);
      if (n > left) return { ok: false, atLeast: out.length + n };
    }
    const ids = encodeSeg(seg);
    for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    if (out.length > budget) return { ok: false, atLeast: out.length };
  }
  return { ok: true, ids: out };
}
