// Tenant records per process (isolate). They change rarely (limits, priority) and a stale
// one for a moment is harmless, so each is kept for `ttlMs`, and answers for up to
// STALE_CACHES of those while one read refreshes it. A key's record is kept only under
// admit.lua's key guard (edge/key-guard.ts): revocation must bite on the next request.
// Deleting a tenant deletes its keys, so a cached tenant never outlives its access.
import type { Redis } from "ioredis";
import { loadTenant, type Tenant } from "./tenants.js";
import { STALE_CACHES } from "./stale-while-refresh.js";
import { setBounded } from "./bounded-map.js";

/** the most tenants one process keeps (the oldest entry goes first) */
const MAX_TENANTS = 10_000;

export class TenantCache {
  private readonly entries = new Map<string, { tenant: Tenant; at: number }>();
  /** the refresh in flight per tenant, so a burst of requests starts one */
  private readonly refreshing = new Map<string, Promise<void>>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async get(conn: Redis, id: string): Promise<Tenant | null> {
    const hit = this.entries.get(id);
    const age = hit ? this.now() - hit.at : Infinity;
    if (hit && age < this.ttlMs) return hit.tenant;
    if (hit && age < this.ttlMs * STALE_CACHES) {
      if (!this.refreshing.has(id)) {
        // a failed refresh leaves the entry as it was: the next request past it tries again
        const refresh = this.load(conn, id).then(
          () => {},
          () => {},
        );
        this.refreshing.set(id, refresh.finally(() => this.refreshing.delete(id)));
      }
      return hit.tenant;
    }
    return this.load(conn, id);
  }

  /** Resolves once the refresh of `id` in flight, if any, has ended (tests). */
  async refreshed(id: string): Promise<void> {
    await this.refreshing.get(id);
  }

  private async load(conn: Redis, id: string): Promise<Tenant | null> {
    const tenant = await loadTenant(conn, id);
    if (!tenant || this.ttlMs === 0) {
      this.entries.delete(id);
      return tenant;
    }
    setBounded(this.entries, id, { tenant, at: this.now() }, MAX_TENANTS);
    return tenant;
  }
}
