// Deterministic "language model" of the simulated worker.
//
// The next token is a pure function of (seed, the whole context = prompt ids +
// ids generated so far), computed through a 32-bit rolling hash. Because the
// hash is folded token by token, a replay that sends `prompt + first k outputs`
// as its prompt reaches exactly the same state and continues with exactly the
// same tokens: this is what lets the pool migrate a request to another worker.
//
// Tokens are drawn from a pool of real Qwen3 ids obtained by tokenizing a
// built-in passage with accents, CJK and emoji, so some generated characters are
// split across several tokens (the pool's incremental detokenizer must cope).
// The model mostly continues the passage after an occurrence of the last token
// and sometimes jumps elsewhere, so the output reads like shuffled text.
import { planScript, type AgentParams, type Script } from "./agent/plan.js";
import type { SimTokenizer } from "./tokenizer.js";

export const PASSAGE = [
  "The quick brown fox jumps over the lazy dog, then naps in the warm afternoon sun.",
  "Le café crème coûte trois euros à Montréal; the naïve señor ordered a crêpe and a piña colada.",
  "东京的春天樱花盛开，人们在公园里散步。北京欢迎你！我们一起学习中文吧。",
  "Rocket launch 🚀 went well 🎉, the team cheered 👩‍🚀 and the dog barked 🐕.",
  "Größere Äpfel schmecken süß; Zürich und Köln sind schöne Städte.",
  "日本語の文章もここにあります。こんにちは、世界！",
  "In 2024 we measured 3.14159 units of throughput across 256 concurrent streams,",
  "while latency stayed below forty milliseconds ⏱️ and the cache hit rate climbed steadily.",
  "Ελληνικά γράμματα και русский текст тоже встречаются здесь.",
  "Finally, a short poem: roses are red, violets are blue, tokens are split, and so are you. 🌹",
].join(" ");

export interface GenParams {
  /** Seed for the rolling hash (0 if absent). */
  seed?: number;
  maxNewTokens: number;
  minNewTokens?: number;
  /** 0 = never EOS on its own; k > 0 = EOS roughly once per k tokens. */
  eosEvery?: number;
  ignoreEos?: boolean;
  stopTokenIds?: readonly number[];
  stop?: readonly string[];
  noStopTrim?: boolean;
  /** Context window: generation ends with "length" when prompt+output reaches it. */
  maxContextLength?: number;
  /**
   * Agentic behaviour (family, tool-call rates, constraint). Thinking and
   * constraints apply even when absent: they follow the prompt/request alone.
   */
  agent?: AgentParams;
}

export interface Finish {
  reason: "stop" | "length";
  matchedTokenId?: number;
  matchedStopStr?: string;
}

/** 32-bit mix (murmur3 fmix32). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Folds one token into the rolling context hash. */
export function foldToken(h: number, id: number): number {
  return fmix32(Math.imul(h ^ id, 0x9e3779b1) + 0x7f4a7c15);
}

export function seedHash(seed: number): number {
  return fmix32((seed | 0) ^ 0x243f6a88);
}

export class TextModel {
  /** Real Qwen3 ids of the passage. */
  readonly pool: readonly number[];
  /** token id -> every position where it occurs in the pool. */
  private readonly occurrences = new Map<number, number[]>();
  /** Pool positions that start a character: a jump lands only there, so the output stays valid UTF-8. */
  private readonly boundaries: number[] = [];

  constructor(readonly tok: SimTokenizer) {
    this.pool = tok.encode(PASSAGE);
    this.pool.forEach((id, i) => {
      const list = this.occurrences.get(id);
      if (list) list.push(i);
      else this.occurrences.set(id, [i]);
    });
    this.boundaries.push(0);
    for (let i = 1; i < this.pool.length; i++) {
      if (!tok.decode(this.pool.slice(0, i)).endsWith("\uFFFD")) this.boundaries.push(i);
    }
  }

  /** Hash state after seeing `ids` from the initial state of `seed`. */
  contextHash(seed: number, ids: ArrayLike<number>): number {
    let h = seedHash(seed);
    for (let i = 0; i < ids.length; i++) h = foldToken(h, ids[i]);
    return h;
  }

  /** Should the model end the sequence here (only consulted when EOS is allowed)? */
  wantsEos(h: number, eosEvery: number): boolean {
    return eosEvery > 0 && fmix32(h ^ 0x5bd1e995) % eosEvery === 0;
  }

  /** The next ordinary (non-EOS) token for context hash `h` whose last token is `last`. */
  nextToken(h: number, last: number | undefined): number {
    const r = fmix32(h + 0x632be5ab);
    const occ = last === undefined ? undefined : this.occurrences.get(last);
    // Continue the passage after an occurrence of the last token (15 in 16 times),
    // otherwise jump to a hash-chosen position.
    if (occ && (r & 15) !== 0) return this.pool[(occ[(r >>> 4) % occ.length] + 1) % this.pool.length];
    return this.pool[this.boundaries[fmix32(r) % this.boundaries.length]!];
  }
}

/**
 * One sequence's generation state. The engine calls `step()` once per decode
 * step; `expectedGeneration()` drives the same class to completion so tests and
 * the pool can compute the worker's exact output offline.
 */
export class Generation {
  readonly output: number[] = [];
  finish: Finish | undefined;
  private h: number;
  private last: number | undefined;
  private readonly stopIds: ReadonlySet<number>;
  private readonly stops: readonly string[];
  private readonly tailTokens: number;
  /** Planned tokens (thinking, tool calls, constrained text) emitted before/instead of the text model. */
  readonly script: Script | undefined;
  /** Context hash at the start: seeds per-token logprobs. */
  readonly baseHash: number;

  constructor(
    readonly model: TextModel,
    readonly prompt: readonly number[],
    readonly params: GenParams,
  ) {
    this.h = model.contextHash(params.seed ?? 0, prompt);
    this.baseHash = this.h;
    this.script = planScript(model.tok, prompt, params.seed ?? 0, params.agent);
    this.last = prompt.length ? prompt[prompt.length - 1] : undefined;
    this.stopIds = new Set(params.stopTokenIds ?? []);
    this.stops = (params.stop ?? []).filter((s) => s.length > 0);
    // Each token decodes to >= 1 byte and a character is <= 4 bytes, so this
    // many trailing tokens always cover a stop string that just completed.
    this.tailTokens = Math.max(0, ...this.stops.map((s) => s.length)) * 4 + 2;
    // max_new_tokens = 0: prefill only (scoring); finishes with no output.
    if (params.maxNewTokens <= 0) this.finish = { reason: "length" };
  }

  /** Generates one token, updates `finish`, returns the token. */
  step(): number {
    if (this.finish) throw new Error("generation already finished");
    const p = this.params;
    const n = this.output.length + 1; // tokens after this step
    const minOk = n > (p.minNewTokens ?? 0);
    const eosAllowed = !p.ignoreEos && minOk;
    const eosId = this.model.tok.imEndId;
    const sc = this.script;
    const scripted = sc !== undefined && (this.output.length < sc.ids.length || sc.end === "eos");
    let id: number;
    if (sc && this.output.length < sc.ids.length) id = sc.ids[this.output.length];
    // A finished structure (tool calls, constrained output) always ends with EOS, like a grammar that only allows EOS.
    else if (scripted) id = eosId;
    else id = eosAllowed && this.model.wantsEos(this.h, p.eosEvery ?? 0) ? eosId : this.model.nextToken(this.h, this.last);
    this.output.push(id);
    this.h = foldToken(this.h, id);
    this.last = id;

    if (id === eosId && (eosAllowed || (scripted && this.output.length > sc!.ids.length))) this.finish = { reason: "stop", matchedTokenId: id };
    else if (minOk && this.stopIds.has(id)) this.finish = { reason: "stop", matchedTokenId: id };
    else if (minOk && this.stops.length) {
      // Like the engine: match stop strings on the detokenized tail of the output.
      const tail = this.model.tok.decode(this.output.slice(-this.tailTokens));
      const hit = this.stops.find((s) => tail.includes(s));
      if (hit !== undefined) this.finish = { reason: "stop", matchedStopStr: hit };
    }
    if (!this.finish) {
      const ctx = p.maxContextLength ?? Infinity;
      if (n >= p.maxNewTokens || this.prompt.length + n >= ctx) this.finish = { reason: "length" };
    }
    return id;
  }

  /** True when the last token is a matched stop token that the servicer trims. */
  get trimsLast(): boolean {
    return this.finish?.matchedTokenId !== undefined && !this.params.noStopTrim;
  }

  /** Output ids as the servicer reports them (matched stop token removed unless no_stop_trim). */
  visibleOutput(): number[] {
    return this.trimsLast ? this.output.slice(0, -1) : this.output.slice();
  }
}

export interface ExpectedGeneration {
  /** Ids as reported in a non-stream `complete.output_ids` (and the concatenation of stream deltas). */
  outputIds: number[];
  /** Every generated id including a trimmed stop token; `completion_tokens` = its length. */
  rawOutputIds: number[];
  finish: Finish;
}

/** Computes exactly what the simulated worker generates for this prompt and these parameters. */
export function expectedGeneration(model: TextModel, prompt: readonly number[], params: GenParams): ExpectedGeneration {
  const g = new Generation(model, prompt, params);
  while (!g.finish) g.step();
  return { outputIds: g.visibleOutput(), rawOutputIds: g.output.slice(), finish: g.finish! };
}

const models = new WeakMap<SimTokenizer, TextModel>();

/** The (cached) text model over a tokenizer. */
export function textModelFor(tok: SimTokenizer): TextModel {
  let m = models.get(tok);
  if (!m) models.set(tok, (m = new TextModel(tok)));
  return m;
}
