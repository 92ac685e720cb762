// claim.lua (pool): take up to `max` jobs of a model, fairly across tenants, each under a lease.
import type { Redis } from "ioredis";
import { keys } from "../keys.js";
import { runScript } from "../lua/index.js";

export interface ClaimReply {
  status: "ok" | "expired" | "invalid";
  rid: string;
  /** the Job JSON as queued */
  body: string;
  /** owner token "<poolId>:<attempt>" */
  token: string;
}

export async function claim(redis: Redis, p: { model: string; poolId: string; leaseMs: number; max: number }): Promise<ClaimReply[]> {
  const m = p.model;
  const flat = await runScript<string[]>(
    redis,
    "claim",
    [keys.jobs(m), keys.activeTenants(m), keys.virtualTimes(m), keys.leases(m), keys.owners(m)],
    [keys.tenantQueue(m, ""), p.poolId, p.leaseMs, p.max],
  );
  const out: ClaimReply[] = [];
  for (let i = 0; i + 3 < flat.length; i += 4) {
    out.push({ status: flat[i] as ClaimReply["status"], rid: flat[i + 1], body: flat[i + 2], token: flat[i + 3] });
  }
  return out;
}
