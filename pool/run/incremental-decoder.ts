// Incremental detokenization (the prefix/read-offset scheme of vLLM and TGI).
//
// Byte-level BPE tokens do not align with characters: a CJK character or an emoji
// is often split over 2-4 tokens, and decoding a partial sequence yields U+FFFD.
// We decode a short window tokens[prefix..] and subtract the text of
// tokens[prefix..read] (already emitted); if the new text ends in U+FFFD the
// character is incomplete and we wait for the next token. Decoding a window with
// one token of left context keeps merges that depend on the previous token right.
export interface Detokenizer {
  decode(ids: readonly number[]): string;
}

/** Token ids in, the text they complete out (byte-stream-decoder.ts for byte-level BPE, this for any decoder). */
export interface TokenTextStream {
  /** All tokens pushed so far. */
  readonly ids: readonly number[];
  /** Adds tokens and returns the text they complete ("" while a character is incomplete). */
  push(ids: readonly number[]): string;
  /** End of the sequence: emits whatever is held back, even an incomplete character. */
  flush(): string;
}

export class IncrementalDecoder implements TokenTextStream {
  private readonly tokens: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;

  constructor(private readonly detok: Detokenizer) {}

  /** All tokens pushed so far. */
  get ids(): readonly number[] {
    return this.tokens;
  }

  /** Adds tokens and returns the text they complete ("" while a character is incomplete). */
  push(ids: readonly number[]): string {
    for (const id of ids) this.tokens.push(id);
    return this.step(false);
  }

  /** End of the sequence: emits whatever is held back, even an incomplete character. */
  flush(): string {
    return this.step(true);
  }

  private step(final: boolean): string {
    if (this.readOffset >= this.tokens.length) return "";
    const prefixText = this.prefixOffset < this.readOffset ? this.detok.decode(this.tokens.slice(this.prefixOffset, this.readOffset)) : "";
    const fullText = this.detok.decode(this.tokens.slice(this.prefixOffset));
    if (fullText.length > prefixText.length && (final || !fullText.endsWith("\uFFFD"))) {
      const delta = fullText.slice(prefixText.length);
      this.prefixOffset = this.readOffset;
      this.readOffset = this.tokens.length;
      return delta;
    }
    if (final) this.readOffset = this.tokens.length;
    return "";
  }
}
