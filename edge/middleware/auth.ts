// API-key authentication (Authorization: Bearer, or x-api-key as Anthropic's
// clients send it): the key's SHA-256 names its ApiKeyRecord, which names the
// tenant. Every way a key can be unusable (missing, unknown,
// revoked, expired, orphaned) is the same 401, so a caller learns nothing
// about which keys exist.
import type { Context, MiddlewareHandler } from "hono";
import type { Redis } from "ioredis";
import { keys } from "../../contract/queue/keys.js";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";
import { EdgeError } from "../errors.js";
import { loadApiKeyRaw, sha256Hex } from "../tenants.js";
import { KeyRecordCache, type KeyGuard } from "../key-guard.js";
import { TenantCache } from "../tenant-cache.js";
import { setBounded } from "../bounded-map.js";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Key -> SHA-256 memo. WebCrypto's digest costs a thread-pool round trip per
 * call (the biggest CPU item of admission in a profile); clients reuse their
 * key, so a bounded per-process (per-isolate) memo removes it. The record is
 * read from Redis on every request, or confirmed by the admission's key guard
 * (edge/key-guard.ts), so a revoked key fails on the very next request.
 */
const HASH_MEMO_MAX = 10_000;
const hashMemo = new Map<string, string>();
async function keyHash(key: string): Promise<string> {
  let h = hashMemo.get(key);
  if (h === undefined) {
    h = await sha256Hex(key);
    setBounded(hashMemo, key, h, HASH_MEMO_MAX);
  }
  return h;
}

/**
 * The key from `Authorization: Bearer` (OpenAI's clients) or `x-api-key` (Anthropic's).
 * Two different keys in one request are refused rather than one picked silently.
 */
function presentedKey(authorization: string | undefined, xApiKey: string | undefined): string | null {
  const bearer = authorization ? (BEARER.exec(authorization)?.[1] ?? null) : null;
  const x = xApiKey?.trim() || null;
  if (bearer && x && bearer !== x) throw new EdgeError("invalid_api_key", "Two different API keys were sent (Authorization and x-api-key); send one.");
  return bearer ?? x;
}

/** Routes whose every answer but an error comes from an admission that can carry the key guard (edge/key-guard.ts). */
const GUARDED_ROUTES = new Set(["/v1/chat/completions", "/v1/completions", "/v1/messages"]);

export function auth(deps: ResolvedDeps): MiddlewareHandler<EdgeEnv> {
  const tenants = new TenantCache(deps.config.tenantCacheMs, deps.now);
  const records = new KeyRecordCache();

  /** Reads the key's record now and gives it (and its tenant) to the request; throws the 401 when the key is unusable. */
  const readKey = async (c: Context<EdgeEnv>, conn: Redis, hash: string): Promise<void> => {
    const read = await loadApiKeyRaw(conn, hash);
    const record = read?.record ?? null;
    const unusable =
      record === null || record.revoked || (record.expires_at !== null && record.expires_at <= deps.now());
    const tenant = unusable ? null : await tenants.get(conn, record.tenant_id);
    if (unusable || tenant === null) {
      records.delete(hash);
      throw new EdgeError("invalid_api_key", "Incorrect API key provided.");
    }
    records.set(hash, read!, deps.now());
    c.set("keyRecord", record);
    c.set("tenant", tenant);
  };

  // A request the key guard can confirm: a generating route (not a resume, which answers
  // from a stream already there), on a single Redis, with quotas on (admit.lua runs).
  const guardable = (c: Context<EdgeEnv>, conn: Redis) =>
    c.req.method === "POST" &&
    GUARDED_ROUTES.has(c.req.path) &&
    c.req.header("last-event-id") === undefined &&
    !conn.isCluster &&
    deps.admission.pipelined !== undefined;

  return async (c, next) => {
    const key = presentedKey(c.req.header("authorization"), c.req.header("x-api-key"));
    if (!key) {
      throw new EdgeError(
        "invalid_api_key",
        "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.",
      );
    }
    const conn = c.get("conn");
    const hash = await keyHash(key);
    const cached = guardable(c, conn) ? records.get(hash, deps.now()) : undefined;
    const expired = cached && cached.record.expires_at !== null && cached.record.expires_at <= deps.now();
    const tenant = cached && !expired ? await tenants.get(conn, cached.record.tenant_id) : null;
    if (!cached || tenant === null) {
      await readKey(c, conn, hash);
      return next();
    }
    c.set("keyRecord", cached.record);
    c.set("tenant", tenant);
    const guard: KeyGuard = {
      key: keys.apiKey(hash),
      value: cached.raw,
      confirmed: false,
      async confirm() {
        await readKey(c, conn, hash);
        guard.confirmed = true;
      },
    };
    c.set("keyGuard", guard);
    await next();
    // Answered before an admission confirmed the key (an error): a key that is no longer
    // usable gets its 401 instead, as if it had been read first.
    if (!guard.confirmed) await guard.confirm();
  };
}
