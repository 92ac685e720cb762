// Tenants, their limits, and quota admission/settlement over Redis. Shared by
// the edge (admit on each request) and the pool (settle when a request ends).
// No runtime-specific imports: this also runs in workerd.
import { z } from "zod";

export const LimitsSchema = z
  .object({
    requests_per_minute: z.number().int().nonnegative().nullable().optional(),
    tokens_per_minute: z.number().int().nonnegative().nullable().optional(),
    max_concurrent_requests: z.number().int().nonnegative().nullable().optional(),
    tokens_per_day: z.number().int().nonnegative().nullable().optional(),
    max_queued_requests: z.number().int().nonnegative().nullable().optional(),
    /** bytes of stored Responses API responses (input + output) the tenant may keep; unset = the edge's default */
    max_stored_response_bytes: z.number().int().nonnegative().nullable().optional(),
  })
  .strict();
export type Limits = z.infer<typeof LimitsSchema>;

export const TenantSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** weight in the fair queue: a tenant of priority 2 gets twice the tokens of one of priority 1 when both wait */
  priority: z.number().positive().default(1),
  limits: LimitsSchema.default({}),
  created_at: z.number().default(0),
});
export type Tenant = z.infer<typeof TenantSchema>;

// admit/settle live with their scripts' wrappers (contract/queue/scripts/); re-exported for callers.
export { admit, DEFAULT_LEASE_MS, type AdmitResult, type Scope } from "./scripts/admit.js";
export { settle, type SettleInput } from "./scripts/settle.js";
