// Cheap lower bounds of a text's token count, so a prompt far over the model's
// context is refused without encoding it (BPE in JS costs ~7 µs per token, and a
// 1 MB single "word" costs seconds). Runtime-free: the pool derives the data from
// its tokenizer (pool/tokenizer/length-bound.ts) and uses it before encoding; it
// also advertises the data in the registry, so the edge refuses such a prompt
// before queueing it. Every bound here never exceeds the true count:
//
// - bytes: a token holds at most maxTokenBytes bytes (the vocabulary's longest
//   token, added tokens included), so tokens >= bytes / maxTokenBytes;
// - per byte value b: a token holds at most perByteMax[b] copies of b, so
//   tokens >= count_b(text) / perByteMax[b] ("x" * 1 MB: 8 x's per token at most);
// - pre-tokens: every match of the pre-tokenizer's split regex (behaviour Isolated)
//   becomes at least one token, and at least ceil(length / maxTokenBytes).
//
// Normalizers: only ASCII characters followed by ASCII are counted by the byte bounds
// (they are stable under every Unicode normal form); the regex bound runs on the
// normalized text. A tokenizer with another kind of normalizer (usable: false) gets
// no bound; one whose added tokens strip or are normalized, or whose pre-tokenizer is
// not a regex Split, gets only the byte bounds (no pretoken).
import { z } from "zod";

export const PromptBoundsDataSchema = z.object({
  maxTokenBytes: z.number().int().positive(),
  /** per ASCII byte value (128 entries; more are ignored): the most copies one token holds; 0 = unknown (not used) */
  perByteMax: z.array(z.number().int().nonnegative()),
  /** false: the normalizer is not a plain Unicode normal form; no bound is exact */
  usable: z.boolean(),
  /** the Unicode normal form the tokenizer applies, or "" for none */
  form: z.enum(["", "NFC", "NFD", "NFKC", "NFKD"]),
  /** the pre-tokenizer's Split regex */
  pretoken: z.object({ source: z.string(), flags: z.string() }).optional(),
  /** the added tokens' contents (each is one token, whatever its length) */
  added: z.array(z.string()).optional(),
});
export type PromptBoundsData = z.infer<typeof PromptBoundsDataSchema>;

const ASCII_ONLY = /^[\x00-\x7f]*$/;
/** characters the byte bound counts between checks against the budget */
const BLOCK = 1 << 16;
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export class PromptLengthBounds {
  readonly maxTokenBytes: number;
  private readonly pretoken: RegExp | undefined;
  private readonly added: RegExp | undefined;

  /** Throws on a regex this runtime cannot compile (callers then go without bounds). */
  constructor(private readonly data: PromptBoundsData) {
    this.maxTokenBytes = data.maxTokenBytes;
    if (data.pretoken) this.pretoken = new RegExp(data.pretoken.source, data.pretoken.flags.includes("g") ? data.pretoken.flags : data.pretoken.flags + "g");
    const added = (data.added ?? []).filter((c) => c.length > 0);
    // longest first, so a token that is a prefix of another never shadows it
    if (added.length) this.added = new RegExp(added.sort((a, b) => b.length - a.length).map(escapeRegex).join("|"), "g");
  }

  /**
   * A lower bound of the token count of `text`, computed only as far as needed:
   * it returns as soon as the bound exceeds `budget` (the value is then > budget).
   * The pre-token count goes first: prose exceeds a budget within its first few
   * hundred KB; one repeated character is a single pre-token, and its byte counts
   * exceed the budget early instead.
   */
  lowerBound(text: string, budget: number): number {
    if (!this.data.usable) return 0;
    const pre = this.pretoken ? this.pretokenBound(text, budget) : 0;
    if (pre > budget) return pre;
    return Math.max(pre, this.byteBound(text, budget));
  }

  /**
   * max(stable ASCII bytes / maxTokenBytes, max over b of count_b / perByteMax[b]),
   * counted in blocks: it returns once the bound so far exceeds `budget`.
   */
  byteBound(text: string, budget = Infinity): number {
    const counts = new Uint32Array(128);
    let ascii = 0;
    const n = text.length;
    let bound = 0;
    for (let start = 0; start < n; start += BLOCK) {
      const end = Math.min(n, start + BLOCK);
      for (let i = start; i < end; i++) {
        const c = text.charCodeAt(i);
        // ASCII followed by ASCII (or the end) is not touched by any normal form.
        if (c < 0x80 && (i + 1 === n || text.charCodeAt(i + 1) < 0x80)) {
          counts[c]++;
          ascii++;
        }
      }
      bound = Math.ceil(ascii / this.maxTokenBytes);
      for (let b = 0; b < 128; b++) {
        const m = this.data.perByteMax[b] ?? 0;
        if (m > 0 && counts[b] > 0) bound = Math.max(bound, Math.ceil(counts[b] / m));
      }
      if (bound > budget) return bound;
    }
    return bound;
  }

  /** Added tokens count one each; every pre-token match in between at least max(1, ceil(len / maxTokenBytes)). */
  private pretokenBound(text: string, budget: number): number {
    const re = new RegExp(this.pretoken!.source, this.pretoken!.flags);
    const form = this.data.form;
    let count = 0;
    const countPiece = (piece: string): boolean => {
      if (piece.length === 0) return false;
      const s = form && !ASCII_ONLY.test(piece) ? piece.normalize(form) : piece;
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(s)) !== null) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        count += Math.max(1, Math.ceil(m[0].length / this.maxTokenBytes));
        if (count > budget) return true;
      }
      return false;
    };
    if (!this.added) {
      countPiece(text);
      return count;
    }
    const added = new RegExp(this.added.source, "g");
    let last = 0;
    let m: RegExpExecArray | null;
    while ((m = added.exec(text)) !== null) {
      if (countPiece(text.slice(last, m.index))) return count;
      count++;
      last = m.index + m[0].length;
      if (count > budget) return count;
    }
    countPiece(text.slice(last));
    return count;
  }
}
