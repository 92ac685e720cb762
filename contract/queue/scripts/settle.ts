// settle.lua (pool, and the edge for a request that never got queued): replace
// a request's reservation with its real usage, once.
import type { Redis } from "ioredis";
import { keys, utcDay } from "../keys.js";
import { runScript } from "../lua/index.js";
import { scopeKeys, type Scope } from "./admit.js";

const USAGE_TTL_S = 400 * 24 * 3600;

export interface SettleInput {
  rid: string;
  tenantId: string;
  keyId: string | null;
  /** whether the key scope was charged at admission (the key had limits of its own) */
  keyScoped: boolean;
  admittedAt: number;
  usage: { prompt_tokens: number; completion_tokens: number; cached_tokens: number };
  now: number;
  /** false for a reservation released before the request was queued (it does not count as a request) */
  countRequest?: boolean;
}

/** Settles a request to its real usage, once (idempotent). Returns true if this call settled it. */
export async function settle(redis: Redis, s: SettleInput): Promise<boolean> {
  const day = utcDay(s.admittedAt);
  const scopes: Scope[] = [{ tenantId: s.tenantId, keyId: null, limits: {} }];
  if (s.keyScoped && s.keyId) scopes.push({ tenantId: s.tenantId, keyId: s.keyId, limits: {} });
  const ks = scopes.flatMap((sc) => scopeKeys(sc, day));
  ks.push(keys.reservations(s.tenantId), keys.reservationExpiry(s.tenantId), keys.usage(s.tenantId, utcDay(s.now)));
  const charged = s.usage.prompt_tokens + s.usage.completion_tokens;
  const r = await runScript<number>(redis, "settle", ks, [
    s.rid,
    charged,
    scopes.length,
    s.usage.prompt_tokens,
    s.usage.completion_tokens,
    s.usage.cached_tokens,
    USAGE_TTL_S,
    s.countRequest === false ? 0 : 1,
  ]);
  return r === 1;
}
