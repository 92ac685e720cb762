// enqueue.lua (edge): queue one Job for its model, fairly per tenant.
import type { ChainableCommander, Redis } from "ioredis";
import { keys, wakeChannel } from "../keys.js";
import { pipelineScript, runScript } from "../lua/index.js";
import type { Job } from "../messages.js";

function call(job: Job, maxQueued: number) {
  // The Job is built typed by the route; re-validating it here cost a visible share of admission CPU.
  return {
    keys: [keys.jobs(job.model), keys.tenantQueue(job.model, job.tenant_id), keys.activeTenants(job.model), keys.virtualTimes(job.model)],
    args: [job.id, JSON.stringify(job), job.tenant_id, maxQueued, wakeChannel(job.model), job.model],
  };
}

/** Position in the tenant's queue (1 = next), or null when the tenant's queue is at maxQueued (0 = no cap). */
export async function enqueue(redis: Redis, job: Job, maxQueued: number): Promise<number | null> {
  const c = call(job, maxQueued);
  return position(await runScript(redis, "enqueue", c.keys, c.args));
}

/** Queues enqueue.lua on a scriptPipeline(redis); read its reply with position(). */
export function enqueueOn(redis: Redis, pipeline: ChainableCommander, job: Job, maxQueued: number): ChainableCommander {
  const c = call(job, maxQueued);
  return pipelineScript(redis, pipeline, "enqueue", c.keys, c.args);
}

/** enqueue.lua's reply: -1 = queue full. */
export const position = (reply: unknown): number | null => {
  const pos = Number(reply);
  return pos < 0 ? null : pos;
};
