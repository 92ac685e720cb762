// Registry heartbeat: SET pool(id) PoolInfo PX 3*hb and ZADD pools id expiry, so the
// edge lists the models served by live pools (README "Registry").
import type { Redis } from "ioredis";
import { keys } from "../../contract/queue/keys.js";
import type { PoolInfo } from "../../contract/queue/messages.js";

export async function beat(redis: Redis, info: PoolInfo, heartbeatMs: number): Promise<string | undefined> {
  try {
    const ttl = 3 * heartbeatMs;
    await redis.multi().set(keys.pool(info.pool_id), JSON.stringify(info), "PX", ttl).zadd(keys.pools(), Date.now() + ttl, info.pool_id).exec();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export async function unregister(redis: Redis, poolId: string): Promise<void> {
  try {
    await redis.multi().del(keys.pool(poolId)).zrem(keys.pools(), poolId).exec();
  } catch {
    // the entry expires on its own
  }
}
