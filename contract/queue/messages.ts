// Messages that cross Redis between edge and pool. Both sides parse them with
// these zod schemas, so a change here is a change of the contract.
import { z } from "zod";
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
});
export type Sampling = z.infer<typeof SamplingSchema>;

/** A chat message as the pool's chat template receives it (OpenAI shape, content flattened to text). */
export const ChatMessageSchema = z.object({
  role: z.string(),
  content: z.string().nullable(),
  name: z.string().optional(),
  tool_calls: z.array(z.unknown()).optional(),
  tool_call_id: z.string().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/** One queued request. Written by the edge's enqueue script, read by the pool's claim script. */
export const JobSchema = z.object({
  id: z.string(),
  tenant_id: z.string(),
  key_id: z.string(),
  model: z.string(),
  kind: z.enum(["chat", "completion"]),
  /** chat only */
  messages: z.array(ChatMessageSchema).optional(),
  tools: z.array(z.unknown()).optional(),
  chat_template_kwargs: z.record(z.string(), z.unknown()).optional(),
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
});
export type Usage = z.infer<typeof UsageSchema>;

export const ErrorInfoSchema = z.object({
  /** HTTP status the edge should answer with (when headers are not yet sent). */
  status: z.number().int(),
  type: z.string(),
  code: z.string().nullable(),
  message: z.string(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/**
 * One entry of a request's response stream (Redis field "e").
 * - chunk: coalesced deltas; per choice the new text, the token ids behind it
 *   (so another pool can resume the request exactly) and, on the last chunk of
 *   that choice, its finish_reason.
 * - done: terminal, with usage counted once for the whole request.
 * - error: terminal.
 */
export const ResponseEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("chunk"),
    choices: z.array(
      z.object({
        index: z.number().int().nonnegative(),
        text: z.string(),
        token_ids: z.array(z.number().int().nonnegative()),
        finish_reason: z.enum(["stop", "length"]).nullable(),
      }),
    ),
  }),
  z.object({ type: z.literal("done"), usage: UsageSchema }),
  z.object({ type: z.literal("error"), error: ErrorInfoSchema }),
]);
export type ResponseEvent = z.infer<typeof ResponseEventSchema>;

/** What a live pool advertises in the registry. */
export const PoolInfoSchema = z.object({
  pool_id: z.string(),
  models: z.array(z.string()),
  workers: z.array(z.object({ address: z.string(), state: z.string() })).default([]),
  started_at: z.number(),
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
