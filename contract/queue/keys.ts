// Every Redis key name used by edge and pool, in one place. Hash tags ({...})
// keep the keys one Lua script touches in one cluster slot:
//   {q:<model>}  the model's fair queue: jobs, per-tenant lists, virtual times, leases
//   {r:<rid>}    one request's response stream, its write lease (fencing) and cancel marker
//   {t:<tenant>} one tenant's record, keys, quota buckets and usage counters
//   {rs:<tenant>} one tenant's stored Responses API responses and their byte count
//   {reg}        the registry of live pools and the models they serve
//   {p:<pool>}   one pool's cancel channel (sharded pub/sub)
// API keys (sg:key:<hash>) and the tenant index (sg:tenants) have slots of their own:
// the admin store writes them in ordered, idempotent steps, never in one transaction.
// Request-scoped keys always carry a TTL (REQUEST_TTL_S) so nothing outlives a request for long.

export const PREFIX = "sg";

/** Seconds a request's keys live after their last write. */
export const REQUEST_TTL_S = 15 * 60;

export const keys = {
  // ---- fair queue, per model ----
  /** HASH rid -> Job JSON (waiting and claimed jobs). */
  jobs: (model: string) => `${PREFIX}:{q:${model}}:jobs`,
  /** LIST of rids waiting for one tenant (RPUSH to enqueue, LPOP to claim). */
  tenantQueue: (model: string, tenant: string) => `${PREFIX}:{q:${model}}:tq:${tenant}`,
  /** ZSET tenant -> virtual start time, holding only tenants with waiting work. */
  activeTenants: (model: string) => `${PREFIX}:{q:${model}}:active`,
  /** HASH tenant -> last virtual finish time, and field "@now" = the queue's virtual clock. */
  virtualTimes: (model: string) => `${PREFIX}:{q:${model}}:vt`,
  /** ZSET rid -> lease expiry (ms since epoch) for claimed jobs. */
  leases: (model: string) => `${PREFIX}:{q:${model}}:leases`,
  /** HASH rid -> owner token "<poolId>:<attempt>" of the current claim. */
  owners: (model: string) => `${PREFIX}:{q:${model}}:owners`,

  // ---- one request ----
  /** STREAM of response events (field "e" = ResponseEvent JSON). */
  out: (rid: string) => `${PREFIX}:{r:${rid}}:out`,
  /** STRING owner token allowed to append to `out` (fencing against a pool presumed dead). */
  writeLease: (rid: string) => `${PREFIX}:{r:${rid}}:lease`,
  /** STRING set when the client went away or asked to stop; value = reason. */
  cancel: (rid: string) => `${PREFIX}:{r:${rid}}:cancel`,
  /**
   * SET of the edge channels (edgeChannel) a single Redis pushes out(rid)'s new entries to:
   * each edge process relaying the request adds its own (with the meta, or at a resume).
   */
  pushTo: (rid: string) => `${PREFIX}:{r:${rid}}:push`,
  /** HASH edge-only request metadata (m = JSON: owning tenant, model, stream flags; a = attach count), so a resume can be authorized after the Job is acked. */
  meta: (rid: string) => `${PREFIX}:{r:${rid}}:meta`,

  // ---- stored Responses API responses, per tenant (edge only) ----
  /** HASH r = response JSON, i = input items JSON, s = "pending" | "done"; TTL = the store's TTL. */
  storedResponse: (tenantId: string, id: string) => `${PREFIX}:{rs:${tenantId}}:resp:${id}`,
  /** ZSET id -> expiry (ms) of the tenant's stored responses (to give back the bytes of expired ones). */
  storedExpiry: (tenantId: string) => `${PREFIX}:{rs:${tenantId}}:exp`,
  /** HASH id -> stored bytes, "@sum" -> the tenant's total (checked against max_stored_response_bytes). */
  storedBytes: (tenantId: string) => `${PREFIX}:{rs:${tenantId}}:bytes`,

  // ---- registry ----
  /** ZSET poolId -> heartbeat expiry (ms). */
  pools: () => `${PREFIX}:{reg}:pools`,
  /** STRING PoolInfo JSON with a TTL, one per live pool. */
  pool: (poolId: string) => `${PREFIX}:{reg}:pool:${poolId}`,
  /**
   * ZSET TokenSpeed worker address -> registration expiry (ms): workers that join at run
   * time (a sidecar or the operator re-registers before expiry; pool/workers/discovery.ts).
   * Every pool routes to the live members; a lapsed member is drained and removed.
   */
  workers: () => `${PREFIX}:{reg}:workers`,
  /** SET of worker addresses being drained: no new work from any pool, open streams finish. */
  drainingWorkers: () => `${PREFIX}:{reg}:workers:draining`,

  // ---- tenants and keys ----
  /** STRING ApiKeyRecord JSON, looked up by the SHA-256 hex of the bearer key. */
  apiKey: (keyHash: string) => `${PREFIX}:key:${keyHash}`,
  /** STRING Tenant JSON. */
  tenant: (tenantId: string) => `${PREFIX}:{t:${tenantId}}:tenant`,
  /** SET of tenant ids (admin listing). */
  tenantIndex: () => `${PREFIX}:tenants`,
  /** HASH key_id -> key hash, the tenant's keys (to list and revoke them). */
  tenantKeys: (tenantId: string) => `${PREFIX}:{t:${tenantId}}:keys`,
  /**
   * Quota state of one scope: the tenant itself (keyId null) or one of its keys.
   * Key scopes share the tenant's hash tag so admit.lua touches one slot.
   */
  quota: (tenantId: string, keyId: string | null) => {
    const base = `${PREFIX}:{t:${tenantId}}:${keyId === null ? "q" : `k:${keyId}:q`}`;
    return {
      reqWindow: `${base}:rw`,
      tokWindow: `${base}:tw`,
      tokAmounts: `${base}:ta`,
      concurrency: `${base}:cc`,
      day: (day: string) => `${base}:d:${day}`,
    };
  },
  /** HASH rid -> reservation JSON, and its ZSET of expiries (tenant scope). */
  reservations: (tenantId: string) => `${PREFIX}:{t:${tenantId}}:res`,
  reservationExpiry: (tenantId: string) => `${PREFIX}:{t:${tenantId}}:resx`,
  /** HASH of the tenant's usage counters for one UTC day (requests, prompt/completion/cached tokens). */
  usage: (tenantId: string, day: string) => `${PREFIX}:{t:${tenantId}}:u:${day}`,
} as const;

const DAY_MS = 86_400_000;
/** the last day asked for (every admission asks for today): formatting a Date each time showed in admission profiles */
let lastDay = { start: NaN, name: "" };

/** UTC day as yyyy-mm-dd, the unit of daily budgets and usage. */
export function utcDay(ms: number): string {
  if (ms >= lastDay.start && ms < lastDay.start + DAY_MS) return lastDay.name;
  const start = Math.floor(ms / DAY_MS) * DAY_MS;
  lastDay = { start, name: new Date(start).toISOString().slice(0, 10) };
  return lastDay.name;
}

// Pub/sub is sharded (SPUBLISH/SSUBSCRIBE, Redis >= 7; it works on a single server too):
// a shard channel lives in one slot, so on a cluster a message travels only within the
// shard owning it, and adding pools or edges does not multiply pub/sub traffic.

/**
 * Shard channel on which the edge tells the pool holding a request to cancel it
 * (message = rid). One per pool: the edge looks the owner up (keys.owners) and tells only
 * it; the cancel key is the durable copy (checked at claim and on every lease refresh).
 */
export const cancelChannel = (poolId: string) => `${PREFIX}:{p:${poolId}}:cancel`;

/**
 * Shard channel append.lua publishes to after writing to out(rid), on a Redis Cluster
 * only: a multi-key XREAD cannot span slots there, so the Node edge subscribes to the
 * streams it relays and reads each when told (edge/node/cluster-streams.ts).
 */
export const streamChannel = (rid: string) => `${PREFIX}:{r:${rid}}:notify`;

/**
 * On a single Redis, the channel of one Node edge process: the append scripts push the
 * new entries of every stream whose keys.pushTo names it (edge/node/pushed-streams.ts).
 * One subscription per edge process, whatever the number of streams it relays.
 * The ":pushes" ending tells append-many.lua this edge takes the entries of several
 * streams in one message; an edge of an earlier release named its channel ":push" and
 * still gets one message per stream, so pools can be upgraded before edges.
 */
export const edgeChannel = (edgeId: string) => `${PREFIX}:edge:${edgeId}:pushes`;

/** streamChannel of the request whose response stream is `outKey` (keys.out(rid)). */
export const streamChannelOfOut = (outKey: string) => outKey.replace(/:out$/, ":notify");

/** The response stream (keys.out) whose streamChannel is `channel`. */
export const outOfStreamChannel = (channel: string) => channel.replace(/:notify$/, ":out");

/** keys.pushTo of the request whose response stream is `outKey` (keys.out(rid)). */
export const pushToOfOut = (outKey: string) => outKey.replace(/:out$/, ":push");

/**
 * Shard channel enqueue.lua publishes to after an enqueue (message = model), so idle
 * pools serving the model claim at once instead of waiting for their next poll. In the
 * model's queue slot: a script may only publish to a channel of its own slot.
 * Optional: pools still poll.
 */
export const wakeChannel = (model: string) => `${PREFIX}:{q:${model}}:wake`;
