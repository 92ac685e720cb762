// Runs the queue's Lua scripts by name (EVALSHA, falling back to EVAL when the
// server does not know the script yet, e.g. after a Redis restart).
import type { Redis } from "ioredis";
import { luaSources, type LuaScriptName } from "./scripts.gen.js";

const defined = new WeakSet<Redis>();

function ensureDefined(redis: Redis): void {
  if (defined.has(redis)) return;
  for (const [name, lua] of Object.entries(luaSources)) {
    redis.defineCommand(`sg_${name}`, { lua });
  }
  defined.add(redis);
}

/** Calls script `name` atomically with the given KEYS and ARGV. */
export async function runScript<T = unknown>(
  redis: Redis,
  name: LuaScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<T> {
  ensureDefined(redis);
  const fn = (redis as unknown as Record<string, (...a: unknown[]) => Promise<T>>)[`sg_${name}`];
  return fn.call(redis, keys.length, ...keys, ...args);
}
