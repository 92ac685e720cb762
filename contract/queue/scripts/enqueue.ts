// enqueue.lua (edge): queue one Job for its model, fairly per tenant.
import type { ChainableCommander, Redis } from "ioredis";
import { keys, wakeChannel } from "../keys.js";
import { pipelineScript, runScript } from "../lua/index.js";
import type { Job } from "../messages.js";

/**
 * The gate of an enqueue sent in one pipeline after its admission (a single Redis):
 * it queues only if the admission recorded the rid in `reservations`, and else deletes
 * `written` (what the pipeline wrote for the request in between).
 */
export interface EnqueueGate {
  reservations: string;
  written: readonly string[];
}

function call(job: Job, maxQueued: number, gate?: EnqueueGate) {
  // The Job is built typed by the route; re-validating it here cost a visible share of admission CPU.
  const ks = [keys.jobs(job.model), keys.tenantQueue(job.model, job.tenant_id), keys.activeTenants(job.model), keys.virtualTimes(job.model)];
  if (gate) ks.push(gate.reservations, ...gate.written);
  return { keys: ks, args: [job.id, JSON.stringify(job), job.tenant_id, maxQueued, wakeChannel(job.model), job.model] };
}

/** Position in the tenant's queue (1 = next), or null when the tenant's queue is at maxQueued (0 = no cap). */
export async function enqueue(redis: Redis, job: Job, maxQueued: number): Promise<number | null> {
  const c = call(job, maxQueued);
  return position(await runScript(redis, "enqueue", c.keys, c.args));
}

/** Queues enqueue.lua on a scriptPipeline(redis); read its reply with position() (a gate's refusal reads as null: check the admission's reply first). */
export function enqueueOn(redis: Redis, pipeline: ChainableCommander, job: Job, maxQueued: number, gate?: EnqueueGate): ChainableCommander {
  const c = call(job, maxQueued, gate);
  return pipelineScript(redis, pipeline, "enqueue", c.keys, c.args);
}

/** enqueue.lua's reply: -1 = queue full (-2, refused by the gate, is null too). */
export const position = (reply: unknown): number | null => {
  const pos = Number(reply);
  return pos < 0 ? null : pos;
};
