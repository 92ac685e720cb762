// Runs the queue's Lua scripts by name (EVALSHA, falling back to EVAL when the
// server does not know the script yet, e.g. after a Redis restart).
import type { ChainableCommander, Redis } from "ioredis";
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

/**
 * Queues script `name` on a pipeline of `redis` (created after this call's
 * ensureDefined), so it goes out in the same socket write as the pipeline's
 * other commands.
 */
export function pipelineScript(
  redis: Redis,
  pipeline: ChainableCommander,
  name: LuaScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
): ChainableCommander {
  ensureDefined(redis);
  const fn = (pipeline as unknown as Record<string, (...a: unknown[]) => ChainableCommander>)[`sg_${name}`];
  return fn.call(pipeline, keys.length, ...keys, ...args);
}

/** A pipeline on which the queue's scripts are callable (see pipelineScript). */
export function scriptPipeline(redis: Redis): ChainableCommander {
  ensureDefined(redis);
  return redis.pipeline();
}
