// The JSON behind the status page (GET /status.json): one consistent view of
// this pool, its workers and the shared queue, cheap enough to poll every second.
import type { PoolTelemetry } from "../telemetry.js";
import type { WorkerLoads, WorkerLoad } from "./loads.js";
import type { RecentError } from "./ring.js";
import type { WorkerView } from "./workers.js";

export interface StatusSnapshot {
  poolId: string;
  models: string[];
  /** ms since epoch */
  now: number;
  startedAt: number;
  inFlight: number;
  tokensPerSecond: number;
  outcomes: Record<string, number>;
  workers: (WorkerView & { load: WorkerLoad | null; tokensPerSecond: number })[];
  /** per model and tenant: waiting in Redis (all pools) and running on this pool */
  queues: { model: string; tenant: string; queued: number; inFlight: number }[];
  /** model -> jobs claimed by any pool */
  leased: Record<string, number>;
  /** false when Redis could not be read for this snapshot */
  redisOk: boolean;
  errors: RecentError[];
}

export interface SnapshotSource {
  poolId: string;
  models: string[];
  startedAt: number;
  telemetry: PoolTelemetry;
  loads: WorkerLoads;
}

export async function buildSnapshot(s: SnapshotSource): Promise<StatusSnapshot> {
  const t = s.telemetry;
  const q = await t.queues();
  const rows = new Map<string, { model: string; tenant: string; queued: number; inFlight: number }>();
  const row = (model: string, tenant: string) => {
    const k = `${model}\u0000${tenant}`;
    let r = rows.get(k);
    if (!r) rows.set(k, (r = { model, tenant, queued: 0, inFlight: 0 }));
    return r;
  };
  for (const e of q?.tenants ?? []) row(e.model, e.tenant).queued += e.queued;
  for (const e of t.inFlightByTenant()) row(e.model, e.tenant).inFlight += e.inFlight;
  const queues = [...rows.values()].sort((a, b) => a.model.localeCompare(b.model) || a.tenant.localeCompare(b.tenant));
  return {
    poolId: s.poolId,
    models: s.models,
    now: Date.now(),
    startedAt: s.startedAt,
    inFlight: t.inFlight,
    tokensPerSecond: round(t.tokensPerSecond()),
    outcomes: { ...t.outcomes },
    workers: t.workers().map((w) => ({ ...w, load: s.loads.get(w.address) ?? null, tokensPerSecond: round(t.tokensPerSecond(w.address)) })),
    queues,
    leased: q?.leased ?? {},
    redisOk: q !== undefined,
    errors: t.errors.list(),
  };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
