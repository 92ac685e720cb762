// Cheap lower bounds of a text's token count, so a prompt far over the model's
// context is refused without encoding it (BPE in JS costs ~7 µs per token, and a
// 1 MB single "word" costs seconds). Every bound here never exceeds the true count:
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
// normalized text. A tokenizer with another kind of normalizer, added tokens that
// strip or are normalized, or a pre-tokenizer other than a regex Split gets only
// what stays exact for it (see the constructor).
import type { Tokenizer } from "@huggingface/tokenizers";

type Json = Record<string, unknown>;

export interface LengthBoundsData {
  maxTokenBytes: number;
  /** per byte value: the most copies one token holds; 0 = unknown (not used) */
  perByteMax: number[];
}

/** Scans the vocabulary once (~0.5 s for 150k tokens): compute in one place and pass the result to threads. */
export function computeBoundsData(tok: Tokenizer, tokenBytes: (id: number) => Uint8Array, tokenizerJson: Json): LengthBoundsData {
  const perByteMax = new Array<number>(256).fill(0);
  let maxTokenBytes = 1;
  const counts = new Uint16Array(256);
  const ids = new Set<number>();
  const vocab = (tokenizerJson.model as Json | undefined)?.vocab;
  if (vocab && typeof vocab === "object" && !Array.isArray(vocab)) for (const id of Object.values(vocab as Record<string, number>)) ids.add(id);
  else if (Array.isArray(vocab)) vocab.forEach((_, i) => ids.add(i));
  for (const id of tok.get_added_tokens_decoder().keys()) ids.add(id);
  for (const id of ids) {
    const b = tokenBytes(id);
    if (b.length > maxTokenBytes) maxTokenBytes = b.length;
    counts.fill(0);
    for (let i = 0; i < b.length; i++) counts[b[i]]++;
    for (let i = 0; i < b.length; i++) if (counts[b[i]] > perByteMax[b[i]]) perByteMax[b[i]] = counts[b[i]];
  }
  return { maxTokenBytes, perByteMax };
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;
const NORMAL_FORMS = new Set(["NFC", "NFD", "NFKC", "NFKD"]);

export class LengthBounds {
  readonly maxTokenBytes: number;
  private readonly perByteMax: number[];
  /** the Split regex whose matches each become >= 1 token (a fresh sticky-free copy per use) */
  private readonly pretoken: RegExp | undefined;
  /** all added tokens (they are one token each, whatever their length) */
  private readonly added: RegExp | undefined;
  /** the Unicode normal form the tokenizer applies, or "" for none */
  private readonly form: string;
  /** false: the normalizer is not a plain Unicode normal form; only no bound at all is exact */
  private readonly usable: boolean;

  constructor(data: LengthBoundsData, tok: Tokenizer, tokenizerJson: Json) {
    this.maxTokenBytes = data.maxTokenBytes;
    this.perByteMax = data.perByteMax;
    const norm = tokenizerJson.normalizer as Json | null | undefined;
    let form = "";
    let usable = true;
    if (norm) {
      const list = norm.type === "Sequence" ? ((norm.normalizers as Json[]) ?? []) : [norm];
      for (const n of list) {
        if (NORMAL_FORMS.has(String(n.type)) && (form === "" || form === n.type)) form = String(n.type);
        else usable = false;
      }
    }
    this.form = form;
    this.usable = usable;
    const addedTokens = (tokenizerJson.added_tokens ?? []) as Json[];
    const plainAdded = addedTokens.every((t) => !t.lstrip && !t.rstrip && !t.single_word && t.normalized !== true);
    if (plainAdded && addedTokens.length > 0) {
      const esc = addedTokens
        .map((t) => String(t.content))
        .filter((c) => c.length > 0)
        .sort((a, b) => b.length - a.length)
        .map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      this.added = new RegExp(esc.join("|"), "g");
    }
    // The regex Split of the pre-tokenizer (alone or first in a Sequence: later steps only split further).
    const pre = tokenizerJson.pre_tokenizer as Json | null | undefined;
    const first = pre?.type === "Sequence" ? ((pre.pretokenizers as Json[]) ?? [])[0] : pre;
    const behavior = String(first?.behavior ?? "").toLowerCase();
    const lib = (tok as unknown as { pre_tokenizer?: { pattern?: unknown; tokenizers?: { pattern?: unknown }[] } }).pre_tokenizer;
    const compiled = pre?.type === "Sequence" ? lib?.tokenizers?.[0]?.pattern : lib?.pattern;
    if (plainAdded && first?.type === "Split" && behavior === "isolated" && compiled instanceof RegExp) {
      this.pretoken = new RegExp(compiled.source, compiled.flags.includes("g") ? compiled.flags : compiled.flags + "g");
    }
  }

  /**
   * A lower bound of the token count of `text`, computed only as far as needed:
   * it returns as soon as the bound exceeds `budget` (the value is then > budget).
   */
  lowerBound(text: string, budget: number): number {
    if (!this.usable) return 0;
    const quick = this.byteBound(text);
    if (quick > budget || !this.pretoken) return quick;
    return Math.max(quick, this.pretokenBound(text, budget));
  }

  /** max(stable ASCII bytes / maxTokenBytes, max over b of count_b / perByteMax[b]). */
  byteBound(text: string): number {
    const counts = new Uint32Array(128);
    let ascii = 0;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      // ASCII followed by ASCII (or the end) is not touched by any normal form.
      if (c < 0x80 && (i + 1 === n || text.charCodeAt(i + 1) < 0x80)) {
        counts[c]++;
        ascii++;
      }
    }
    let bound = Math.ceil(ascii / this.maxTokenBytes);
    for (let b = 0; b < 128; b++) {
      const m = this.perByteMax[b];
      if (m > 0 && counts[b] > 0) bound = Math.max(bound, Math.ceil(counts[b] / m));
    }
    return bound;
  }

  /** Added tokens count one each; every pre-token match in between at least max(1, ceil(len / maxTokenBytes)). */
  private pretokenBound(text: string, budget: number): number {
    const re = new RegExp(this.pretoken!.source, this.pretoken!.flags);
    let count = 0;
    const countPiece = (piece: string): boolean => {
      if (piece.length === 0) return false;
      const s = this.form && !ASCII_ONLY.test(piece) ? piece.normalize(this.form as "NFC") : piece;
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
