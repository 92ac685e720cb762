// The model's tokenizer as the pool uses it: chat template rendering, prompt
// encoding and detokenization. Built from the files of a tokenizer bundle.
import { Tokenizer } from "@huggingface/tokenizers";
import { Template } from "@huggingface/jinja";
import type { ChatMessage } from "../../contract/queue/messages.js";
import { err, ok, type Result } from "../../contract/result.js";
import { SegmentTokenCache, splittableSpecialTokens } from "./segment-cache.js";
import { tokenBytesOf } from "./token-bytes.js";
import { computeBoundsData } from "./length-bound.js";
import { PromptLengthBounds, type PromptBoundsData } from "../../contract/prompt-bounds.js";
import { encodeWithin, type BoundedIds } from "./bounded-encode.js";
import { IncrementalDecoder, type TokenTextStream } from "../run/incremental-decoder.js";
import { ByteStreamDecoder } from "../run/byte-stream-decoder.js";

export interface ChatInput {
  messages: readonly ChatMessage[];
  tools?: readonly unknown[];
  /** Extra template variables, e.g. { enable_thinking: false }. */
  kwargs?: Record<string, unknown>;
}

export interface ModelTokenizer {
  /** Encodes text as-is: no BOS/EOS added (a rendered chat prompt already has its special tokens). */
  encode(text: string): number[];
  /**
   * The ids of `text` if it has at most `budget` tokens (exactly encode(text)); else how
   * many it has at least, found without encoding the whole text (bounded-encode.ts).
   */
  encodeWithin(text: string, budget: number): BoundedIds;
  /** The vocabulary's longest token in bytes: no text has fewer than bytes / maxTokenBytes tokens. */
  maxTokenBytes: number;
  /** What the length bounds were computed from (passed to tokenization threads so they skip the scan). */
  boundsData: PromptBoundsData;
  /** The bundle's files and extra EOS ids it was loaded from (tokenization threads load the same). */
  files: ReadonlyMap<string, Uint8Array>;
  extraEosIds: readonly number[];
  /** Segment cache counters (hits, misses), for the hit rate. */
  cacheStats(): { hits: number; misses: number };
  decode(ids: readonly number[], skipSpecialTokens: boolean): string;
  /** A new incremental detokenizer (one per generated sequence): the same text as decode(), token by token. */
  textStream(skipSpecialTokens: boolean): TokenTextStream;
  /** Renders the chat template with add_generation_prompt. */
  renderChat(input: ChatInput): Result<string>;
  /** EOS ids from tokenizer_config (and, when merged, GetModelInfo). */
  eosTokenIds: number[];
  /** The UTF-8 bytes one token contributes to the text (logprobs). */
  tokenBytes(id: number): Uint8Array;
}

type Json = Record<string, unknown>;

function tokenText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Json).content === "string") return (v as Json).content as string;
  return undefined;
}

/** Picks the default chat template: tokenizer_config's chat_template (string or named list), else a chat_template.jinja file. */
function pickTemplate(config: Json, files: ReadonlyMap<string, Uint8Array>): string | undefined {
  const t = config.chat_template;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const named = t as { name?: string; template?: string }[];
    return (named.find((x) => x.name === "default") ?? named[0])?.template;
  }
  const jinja = files.get("chat_template.jinja");
  if (jinja) return new TextDecoder().decode(jinja);
  const json = files.get("chat_template.json");
  if (json) {
    const parsed = JSON.parse(new TextDecoder().decode(json)) as Json;
    if (typeof parsed.chat_template === "string") return parsed.chat_template;
  }
  return undefined;
}

/** Loads tokenizer.json + tokenizer_config.json (+ optional template files) from an unzipped bundle. */
export function loadModelTokenizer(
  files: ReadonlyMap<string, Uint8Array>,
  extraEosIds: readonly number[] = [],
  boundsData?: PromptBoundsData,
): Result<ModelTokenizer> {
  const dec = new TextDecoder();
  const tj = files.get("tokenizer.json");
  const tc = files.get("tokenizer_config.json");
  if (!tj) return err("tokenizer bundle has no tokenizer.json");
  let json: Json;
  let config: Json;
  try {
    json = JSON.parse(dec.decode(tj)) as Json;
    config = tc ? (JSON.parse(dec.decode(tc)) as Json) : {};
  } catch (e) {
    return err(`tokenizer bundle: bad JSON (${(e as Error).message})`);
  }
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, config);
  } catch (e) {
    return err(`tokenizer: cannot load (${(e as Error).message})`);
  }
  const source = pickTemplate(config, files);
  let template: Template | undefined;
  try {
    template = source === undefined ? undefined : new Template(source);
  } catch (e) {
    return err(`chat template does not parse (${(e as Error).message})`);
  }
  const eos = new Set<number>(extraEosIds);
  const eosText = tokenText(config.eos_token);
  const eosId = eosText === undefined ? undefined : tok.token_to_id(eosText);
  if (eosId !== undefined) eos.add(eosId);
  const bos = tokenText(config.bos_token) ?? "";

  const encodeRaw = (text: string) => tok.encode(text, { add_special_tokens: false }).ids;
  const specials = splittableSpecialTokens(json);
  const cache = specials ? new SegmentTokenCache(specials, encodeRaw) : undefined;
  const tokenBytes = tokenBytesOf(tok);
  const data = boundsData ?? computeBoundsData(tok, tokenBytes, json);
  const decode = (ids: readonly number[], skipSpecialTokens: boolean) =>
    ids.length === 0 ? "" : tok.decode(ids as number[], { skip_special_tokens: skipSpecialTokens });
  // A ByteLevel decoder alone (no cleanup of spaces) turns ids into the UTF-8 of their bytes.
  const byteLevel = (json.decoder as Json | null | undefined)?.type === "ByteLevel" && config.clean_up_tokenization_spaces !== true;
  const specialIds = new Set(((json.added_tokens ?? []) as Json[]).filter((t) => t.special === true).map((t) => Number(t.id)));
  const bounds = new PromptLengthBounds(data);

  return ok({
    eosTokenIds: [...eos],
    tokenBytes,
    maxTokenBytes: data.maxTokenBytes,
    boundsData: data,
    files,
    extraEosIds,
    cacheStats: () => ({ hits: cache?.hits ?? 0, misses: cache?.misses ?? 0 }),
    encode: (text) => (cache ? cache.encode(text) : encodeRaw(text)),
    encodeWithin: (text, budget) => encodeWithin(text, budget, { bounds, cache, encodeRaw }),
    decode,
    textStream: (skipSpecialTokens) =>
      byteLevel
        ? new ByteStreamDecoder(tokenBytes, skipSpecialTokens ? specialIds : null)
        : new IncrementalDecoder({ decode: (ids) => decode(ids, skipSpecialTokens) }),
    renderChat: (input) => {
      if (!template) return err("the model's tokenizer has no chat template");
      try {
        const text = template.render({
          ...(input.kwargs ?? {}),
          // Templates test `message.content is string`; null content (tool calls) renders as "".
          messages: input.messages.map((m) => ({ ...m, content: m.content ?? "" })),
          tools: input.tools && input.tools.length > 0 ? input.tools : undefined,
          add_generation_prompt: true,
          bos_token: bos,
          eos_token: eosText ?? "",
        });
        return ok(text);
      } catch (e) {
        return err(`chat template failed: ${(e as Error).message}`);
      }
    },
  });
}
