// Incremental detokenization for byte-level BPE (GPT-2, Qwen, Llama 3) whose
// decoder is ByteLevel alone: the text of ids is the UTF-8 decoding of their
// concatenated bytes (special tokens left out when skipped), so a streaming
// TextDecoder gives it token by token in O(1), holding an incomplete character
// until its last byte arrives. The window scheme (incremental-decoder.ts)
// re-decodes a few tokens through the tokenizer at every token instead (~10% of
// the pool's CPU at 64 streams); it stays the answer for every other decoder.
import type { TokenTextStream } from "./incremental-decoder.js";

export class ByteStreamDecoder implements TokenTextStream {
  private readonly tokens: number[] = [];
  // Not fatal: an invalid sequence becomes U+FFFD, as the tokenizer's decode does.
  private readonly utf8 = new TextDecoder("utf-8");

  /** `skip`: ids whose text is left out (special tokens when skipped). */
  constructor(
    private readonly bytesOf: (id: number) => Uint8Array,
    private readonly skip: ReadonlySet<number> | null,
  ) {}

  get ids(): readonly number[] {
    return this.tokens;
  }

  push(ids: readonly number[]): string {
    let out = "";
    for (const id of ids) {
      this.tokens.push(id);
      if (this.skip?.has(id)) continue;
      out += this.utf8.decode(this.bytesOf(id), { stream: true });
    }
    return out;
  }

  flush(): string {
    return this.utf8.decode();
  }
}
