// reap.lua (any pool): put jobs whose lease lapsed back at the head of their tenant's queue.
import type { Redis } from "ioredis";
import { keys } from "../keys.js";
import { runScript } from "../lua/index.js";

/** Returns the re-queued rids. */
export function reap(redis: Redis, p: { model: string; max: number }): Promise<string[]> {
  const m = p.model;
  return runScript<string[]>(
    redis,
    "reap",
    [keys.leases(m), keys.owners(m), keys.jobs(m), keys.activeTenants(m), keys.virtualTimes(m)],
    [keys.tenantQueue(m, ""), p.max],
  );
}
