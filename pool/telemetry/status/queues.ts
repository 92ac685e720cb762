// Reads the fair queue's state from Redis (contract/queue/keys.ts): per model,
// the tenants with waiting work (activeTenants) and each one's list length,
// plus how many of the model's jobs are claimed by any pool (leases).
import type { Redis } from "ioredis";
import { keys } from "../../../contract/queue/keys.js";

export interface TenantQueue {
  model: string;
  tenant: string;
  queued: number;
}

export interface QueueSnapshot {
  tenants: TenantQueue[];
  /** model -> claimed jobs (all pools) */
  leased: Record<string, number>;
}

export async function readQueues(redis: Redis, models: readonly string[]): Promise<QueueSnapshot> {
  const tenants: TenantQueue[] = [];
  const leased: Record<string, number> = {};
  for (const model of models) {
    const [active, nLeased] = await Promise.all([redis.zrange(keys.activeTenants(model), 0, -1), redis.zcard(keys.leases(model))]);
    leased[model] = nLeased;
    if (active.length === 0) continue;
    const lens = await Promise.all(active.map((t) => redis.llen(keys.tenantQueue(model, t))));
    active.forEach((tenant, i) => tenants.push({ model, tenant, queued: lens[i] }));
  }
  return { tenants, leased };
}
