// ack.lua (pool): a finished job leaves the queue, if this owner still holds it.
import type { Redis } from "ioredis";
import { keys } from "../keys.js";
import { runScript } from "../lua/index.js";

/** true = acked; false = another owner holds it (or it is gone). */
export async function ack(redis: Redis, p: { model: string; rid: string; token: string }): Promise<boolean> {
  const r = await runScript<number>(redis, "ack", [keys.jobs(p.model), keys.leases(p.model), keys.owners(p.model)], [p.rid, p.token]);
  return r === 1;
}
