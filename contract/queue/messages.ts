// Messages that cross Redis between edge and pool. Both sides parse them with
// these zod schemas, so a change here is a change of the contract.
import { z } from "zod";
import { PromptBoundsDataSchema } from "../prompt-bounds.js";
import { toErrorCode } from "../errors.js";
import { LimitsSchema } from "./tenancy.js";

/** Sampling parameters as the edge validated them, already mapped to wire meaning. */
export const SamplingSchema = z.object({
  /** null = engine default (no limit given by the client). */
  max_tokens: z.number().int().positive().nullable(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  seed: z.number().int().optional(),
  stop: z.array(z.string()).default([]),
  n: z.number().int().positive().default(1),
  frequency_penalty: z.number().optional(),
  presence_penalty: z.number().optional(),
  /** token id (decimal string) -> bias, as the wire's logit_bias map */
  logit_bias: z.record(z.string(), z.number()).optional(),
  /** wire SamplingParams.top_k (Anthropic's top_k); unset = engine default */
  top_k: z.number().int().positive().optional(),
});
export type Sampling = z.infer<typeof SamplingSchema>;

/** A tool call in a conversation's history (what an assistant turn called). */
export const ToolCallSchema = z.object({
  id: z.string(),
  type: z.literal("function"),
  /** arguments: the JSON text the model produced (an object once parsed) */
  function: z.object({ name: z.string(), arguments: z.string() }),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

/** A chat message as the pool's chat template receives it (OpenAI shape, content flattened to text). */
export const ChatMessageSchema = z.object({
  role: z.string(),
  content: z.string().nullable(),
  name: z.string().optional(),
  tool_calls: z.array(ToolCallSchema).optional(),
  tool_call_id: z.string().optional(),
  /** an earlier assistant turn's reasoning, for templates that render it */
  reasoning_content: z.string().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/** A function the model may call; `parameters` is a JSON Schema the edge checked. */
export const ToolSchema = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string(),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().optional(),
  }),
});
export type Tool = z.infer<typeof ToolSchema>;

/**
 * Which calls the model must make. "none" never reaches the pool (the edge
 * drops the tools instead); "required" and a named function are enforced on
 * the wire with a constraint, so the engine can only produce a valid call.
 */
export const ToolChoiceSchema = z.union([z.enum(["auto", "required"]), z.object({ name: z.string() })]);
export type ToolChoice = z.infer<typeof ToolChoiceSchema>;

/** Structured output: the final answer (after any reasoning) must match `schema`. */
export const OutputFormatSchema = z.object({
  /** a JSON Schema the edge checked; json_object is {"type":"object"} */
  schema: z.record(z.string(), z.unknown()),
  name: z.string().optional(),
});
export type OutputFormat = z.infer<typeof OutputFormatSchema>;

/**
 * One queued request: the one internal request every public API (chat
 * completions, completions, Responses, Messages) is translated into.
 * Written by the edge's enqueue script, read by the pool's claim script.
 */
export const JobSchema = z.object({
  id: z.string(),
  tenant_id: z.string(),
  key_id: z.string(),
  model: z.string(),
  kind: z.enum(["chat", "completion"]),
  /** chat only */
  messages: z.array(ChatMessageSchema).optional(),
  tools: z.array(ToolSchema).optional(),
  tool_choice: ToolChoiceSchema.optional(),
  /** false: at most one call per turn (default true) */
  parallel_tool_calls: z.boolean().optional(),
  output_format: OutputFormatSchema.optional(),
  /** thinking on/off for models that reason (chat template `enable_thinking`); unset = off */
  thinking: z.boolean().optional(),
  /** return logprobs of the generated tokens, with this many alternatives per position (0-20) */
  logprobs: z.object({ top: z.number().int().min(0).max(20) }).optional(),
  chat_template_kwargs: z.record(z.string(), z.unknown()).optional(),
  /**
   * Count only (Anthropic's count_tokens): the pool renders and tokenizes the prompt and
   * answers with a done event whose usage.prompt_tokens is its length; no worker runs, and
   * nothing was reserved at admission, so its settle finds nothing to settle (no usage added).
   */
  count_only: z.boolean().optional(),
  /** completion only: text prompt */
  prompt: z.string().optional(),
  sampling: SamplingSchema,
  stream: z.boolean(),
  /** ms since epoch */
  enqueued_at: z.number(),
  /** ms since epoch; the job is failed with 503 if not started by then */
  deadline_at: z.number(),
  /** tokens reserved at admission (prompt estimate + max output), used by fair queuing and settlement */
  reserved_tokens: z.number().int().nonnegative(),
  /** the fair queue's cost of this job (tokens) and the tenant's weight */
  weight: z.number().positive().default(1),
  /** admission time (ms): selects the day whose budget the reservation was charged to */
  admitted_at: z.number().default(0),
  /** whether the key's own quota scope was charged at admission (settle refunds it too) */
  key_scoped: z.boolean().default(false),
  /** set by the claim script: how many times the job was claimed */
  attempt: z.number().int().nonnegative().default(0),
});
export type Job = z.infer<typeof JobSchema>;

export const UsageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  cached_tokens: z.number().int().nonnegative(),
  /** completion tokens spent in the reasoning part */
  reasoning_tokens: z.number().int().nonnegative().optional(),
});
export type Usage = z.infer<typeof UsageSchema>;

export const ErrorInfoSchema = z.object({
  /** HTTP status the edge should answer with (when headers are not yet sent). */
  status: z.number().int(),
  type: z.string(),
  /** One of contract/errors.ts's codes; read tolerantly: an unknown one (another pool version) becomes "upstream_error". */
  code: z
    .string()
    .nullable()
    .transform((c) => (c === null ? null : toErrorCode(c))),
  message: z.string(),
});
export type ErrorInfo = z.output<typeof ErrorInfoSchema>;

/**
 * A piece of a tool call. The first piece of call `index` carries its `id` and
 * `name`; later pieces carry `arguments` fragments (concatenated: a JSON object).
 */
export const ToolCallDeltaSchema = z.object({
  index: z.number().int().nonnegative(),
  id: z.string().optional(),
  name: z.string().optional(),
  arguments: z.string().optional(),
});
export type ToolCallDelta = z.infer<typeof ToolCallDeltaSchema>;

/** One alternative at a position: the token's text, its log probability and its UTF-8 bytes. */
export const TokenLogprobSchema = z.object({ token: z.string(), logprob: z.number(), bytes: z.array(z.number().int()) });
/** Logprobs of one generated token that landed in `text` (content), with the top alternatives. */
export const LogprobEntrySchema = TokenLogprobSchema.extend({ top: z.array(TokenLogprobSchema) });
export type LogprobEntry = z.infer<typeof LogprobEntrySchema>;

export const FinishReasonSchema = z.enum(["stop", "length", "tool_calls"]);
export type FinishReason = z.infer<typeof FinishReasonSchema>;

/**
 * One entry of a request's response stream (Redis field "e"): the one
 * internal event stream every public API is translated from.
 * - chunk: coalesced deltas; per choice the new content `text`, `reasoning`
 *   text, tool-call pieces, logprobs of the content tokens, the token ids
 *   behind all of it (so another pool can resume the request exactly) and, on
 *   the last chunk of that choice, its finish_reason.
 * - done: terminal, with usage counted once for the whole request.
 * - error: terminal.
 */
export const ChoiceDeltaSchema = z.object({
  index: z.number().int().nonnegative(),
  text: z.string(),
  token_ids: z.array(z.number().int().nonnegative()),
  /**
   * How many of the choice's tokens came before this delta's. An edge that relayed more
   * than that sees a stream rewritten after a loss (a Redis failover dropped entries it
   * had already sent, and a takeover regenerated them): it ends the response with a
   * retryable error instead of sending those tokens twice.
   */
  offset: z.number().int().nonnegative().optional(),
  finish_reason: FinishReasonSchema.nullable(),
  reasoning: z.string().optional(),
  tool_calls: z.array(ToolCallDeltaSchema).optional(),
  logprobs: z.array(LogprobEntrySchema).optional(),
  /** on the last chunk of a choice that a stop string ended (finish_reason "stop"): which one */
  stop_sequence: z.string().optional(),
});
export type ChoiceDelta = z.infer<typeof ChoiceDeltaSchema>;

export const ResponseEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("chunk"),
    choices: z.array(ChoiceDeltaSchema),
  }),
  z.object({ type: z.literal("done"), usage: UsageSchema }),
  z.object({ type: z.literal("error"), error: ErrorInfoSchema }),
]);
export type ResponseEvent = z.infer<typeof ResponseEventSchema>;

/**
 * The edge's view of a response event: the same shape, but `token_ids` only checked to
 * be an array. The edge uses nothing of the ids but their count (a resume reads them on
 * the pool, which parses them fully), and checking every id of every chunk was a
 * measurable part of the edge's CPU per token.
 */
export const RelayedEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("chunk"),
    choices: z.array(ChoiceDeltaSchema.extend({ token_ids: z.custom<number[]>((v) => Array.isArray(v)) })),
  }),
  z.object({ type: z.literal("done"), usage: UsageSchema }),
  z.object({ type: z.literal("error"), error: ErrorInfoSchema }),
]);

/** What a live pool advertises in the registry. */
export const PoolInfoSchema = z.object({
  pool_id: z.string(),
  models: z.array(z.string()),
  workers: z.array(z.object({ address: z.string(), state: z.string() })).default([]),
  started_at: z.number(),
  /** per model: its context length (prompt + output tokens), as the workers report it, and its tokenizer's length bounds */
  model_limits: z
    .record(
      z.string(),
      z.object({
        context_length: z.number().int().positive(),
        max_token_bytes: z.number().int().positive().optional(),
        /** what lets an edge bound a prompt's tokens without the tokenizer (contract/prompt-bounds.ts) */
        bounds: PromptBoundsDataSchema.optional(),
      }),
    )
    .default({}),
});
export type PoolInfo = z.infer<typeof PoolInfoSchema>;

/** An API key record, stored under keys.apiKey(sha256(key)); the secret itself is never stored. */
export const ApiKeyRecordSchema = z.object({
  key_id: z.string(),
  tenant_id: z.string(),
  name: z.string().default(""),
  created_at: z.number(),
  expires_at: z.number().nullable().default(null),
  revoked: z.boolean().default(false),
  models: z.array(z.string()).nullable().default(null),
  /** the key's own limits, applied beside (never instead of) the tenant's */
  limits: LimitsSchema.default({}),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecordSchema>;
