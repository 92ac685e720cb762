// Derives the prompt length bounds' data (contract/prompt-bounds.ts) from a loaded
// tokenizer: one scan of the vocabulary (~0.5 s for 150k tokens) plus what its
// normalizer, added tokens and pre-tokenizer allow. Computed once per model in the
// pool's main thread and passed to the tokenization threads and, through the
// registry, to the edges.
import type { Tokenizer } from "@huggingface/tokenizers";
import type { PromptBoundsData } from "../../contract/prompt-bounds.js";

type Json = Record<string, unknown>;

const NORMAL_FORMS = new Set(["NFC", "NFD", "NFKC", "NFKD"]);

export function computeBoundsData(tok: Tokenizer, tokenBytes: (id: number) => Uint8Array, tokenizerJson: Json): PromptBoundsData {
  const perByteMax = new Array<number>(128).fill(0);
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
    for (let i = 0; i < b.length; i++) if (b[i] < 128 && counts[b[i]] > perByteMax[b[i]]) perByteMax[b[i]] = counts[b[i]];
  }

  // Only plain Unicode normal forms keep the bounds exact.
  const norm = tokenizerJson.normalizer as Json | null | undefined;
  let form: PromptBoundsData["form"] = "";
  let usable = true;
  if (norm) {
    const list = norm.type === "Sequence" ? ((norm.normalizers as Json[]) ?? []) : [norm];
    for (const n of list) {
      if (NORMAL_FORMS.has(String(n.type)) && (form === "" || form === n.type)) form = n.type as PromptBoundsData["form"];
      else usable = false;
    }
  }
  const data: PromptBoundsData = { maxTokenBytes, perByteMax, usable, form };

  // Added tokens are matched verbatim only when they neither strip nor are normalized.
  const addedTokens = (tokenizerJson.added_tokens ?? []) as Json[];
  const plainAdded = addedTokens.every((t) => !t.lstrip && !t.rstrip && !t.single_word && t.normalized !== true);
  if (!plainAdded) return data;
  if (addedTokens.length > 0) data.added = addedTokens.map((t) => String(t.content)).filter((c) => c.length > 0);
  // The regex Split of the pre-tokenizer (alone or first in a Sequence: later steps only split further).
  const pre = tokenizerJson.pre_tokenizer as Json | null | undefined;
  const first = pre?.type === "Sequence" ? ((pre.pretokenizers as Json[]) ?? [])[0] : pre;
  const behavior = String(first?.behavior ?? "").toLowerCase();
  const lib = (tok as unknown as { pre_tokenizer?: { pattern?: unknown; tokenizers?: { pattern?: unknown }[] } }).pre_tokenizer;
  const compiled = pre?.type === "Sequence" ? lib?.tokenizers?.[0]?.pattern : lib?.pattern;
  if (first?.type === "Split" && behavior === "isolated" && compiled instanceof RegExp) data.pretoken = { source: compiled.source, flags: compiled.flags };
  return data;
}
