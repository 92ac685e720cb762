// extend.lua (pool): extend the leases of held jobs.
import type { Redis } from "ioredis";
import { keys } from "../keys.js";
import { runScript } from "../lua/index.js";

/** Returns the rids lost to another owner. */
export async function extend(redis: Redis, p: { model: string; leaseMs: number; held: readonly { rid: string; token: string }[] }): Promise<string[]> {
  if (p.held.length === 0) return [];
  return runScript<string[]>(
    redis,
    "extend",
    [keys.leases(p.model), keys.owners(p.model)],
    [p.leaseMs, ...p.held.flatMap((h) => [h.rid, h.token])],
  );
}
