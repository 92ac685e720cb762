// A prefix-friendly tokenization cache (the idea of smg's L1 tokenizer cache).
// HF tokenizers split the input on special added tokens first and encode every
// piece between them on its own, so encode(a + b) == encode(a) ++ encode(b)
// whenever b starts with a special token. A rendered chat is a run of
// "<|im_start|>role\n...content...<|im_end|>\n" pieces and the next turn of an
// agentic conversation re-renders the same history plus a little: cutting the text
// right before each special token and caching each segment's ids makes the pool
// tokenize only what is new (tens of thousands of tokens of history cost ~10 ms
// per 1k tokens to encode from scratch with the JS tokenizer).
//
// Only used when every special token has no lstrip/rstrip/single_word behaviour
// (those would make a piece's encoding depend on its neighbours).

export interface SegmentCacheOptions {
  /** Total cached ids across segments (LRU beyond that). */
  maxTokens: number;
  /** Segments shorter than this are encoded every time (not worth a cache entry). */
  minChars: number;
}

export class SegmentTokenCache {
  private readonly lru = new Map<string, number[]>();
  private tokens = 0;
  hits = 0;
  misses = 0;
  private readonly splitter: RegExp;

  constructor(
    specialTokens: readonly string[],
    private readonly encodeRaw: (text: string) => number[],
    private readonly opts: SegmentCacheOptions = { maxTokens: 2_000_000, minChars: 256 },
  ) {
    const esc = [...specialTokens].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    // Zero-width split before every special token.
    this.splitter = new RegExp(`(?=${esc.join("|")})`, "g");
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (const seg of this.segments(text)) {
      const ids = this.encodeSegment(seg);
      for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    }
    return out;
  }

  /** The pieces encode() encodes one by one (their ids concatenate to the text's). */
  segments(text: string): string[] {
    if (text.length < this.opts.minChars * 2) return [text];
    return text.split(this.splitter).filter((s) => s.length > 0);
  }

  /** A segment's ids if cached (without counting a hit or a miss). */
  peek(seg: string): number[] | undefined {
    return this.lru.get(seg);
  }

  encodeSegment(seg: string): number[] {
    return seg.length < this.opts.minChars ? this.encodeRaw(seg) : this.segment(seg);
  }

  private segment(seg: string): number[] {
    const hit = this.lru.get(seg);
    if (hit) {
      this.hits++;
      this.lru.delete(seg);
      this.lru.set(seg, hit);
      return hit;
    }
    this.misses++;
    const ids = this.encodeRaw(seg);
    this.lru.set(seg, ids);
    this.tokens += ids.length;
    while (this.tokens > this.opts.maxTokens && this.lru.size > 1) {
      const [k, v] = this.lru.entries().next().value as [string, number[]];
      this.lru.delete(k);
      this.tokens -= v.length;
    }
    return ids;
  }
}

interface AddedToken {
  content?: unknown;
  special?: unknown;
  lstrip?: unknown;
  rstrip?: unknown;
  single_word?: unknown;
}

/** The special tokens to split on, or undefined if the cache would not be exact for this tokenizer. */
export function splittableSpecialTokens(tokenizerJson: Record<string, unknown>): string[] | undefined {
  const added = (tokenizerJson.added_tokens ?? []) as AddedToken[];
  const out: string[] = [];
  for (const t of added) {
    if (t.lstrip || t.rstrip || t.single_word) return undefined;
    if (t.special && typeof t.content === "string" && t.content.length > 0) out.push(t.content);
  }
  return out.length ? out : undefined;
}
