// API-key authentication (Authorization: Bearer, or x-api-key as Anthropic's
// clients send it): the key's SHA-256 names its ApiKeyRecord, which names the
// tenant. Every way a key can be unusable (missing, unknown,
// revoked, expired, orphaned) is the same 401, so a caller learns nothing
// about which keys exist.
import type { MiddlewareHandler } from "hono";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";
import { EdgeError } from "../errors.js";
import { loadApiKey, sha256Hex } from "../tenants.js";
import { TenantCache } from "../tenant-cache.js";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Key -> SHA-256 memo. WebCrypto's digest costs a thread-pool round trip per
 * call (the biggest CPU item of admission in a profile); clients reuse their
 * key, so a bounded per-process (per-isolate) memo removes it. Only the hash
 * is memoised: the record is read from Redis on every request, so a revoked
 * key fails on the very next request.
 */
const HASH_MEMO_MAX = 10_000;
const hashMemo = new Map<string, string>();
async function keyHash(key: string): Promise<string> {
  let h = hashMemo.get(key);
  if (h === undefined) {
    h = await sha256Hex(key);
    if (hashMemo.size >= HASH_MEMO_MAX) hashMemo.delete(hashMemo.keys().next().value!);
    hashMemo.set(key, h);
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

export function auth(deps: ResolvedDeps): MiddlewareHandler<EdgeEnv> {
  const tenants = new TenantCache(deps.config.tenantCacheMs, deps.now);
  return async (c, next) => {
    const key = presentedKey(c.req.header("authorization"), c.req.header("x-api-key"));
    if (!key) {
      throw new EdgeError(
        "invalid_api_key",
        "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.",
      );
    }
    const conn = c.get("conn");
    const record = await loadApiKey(conn, await keyHash(key));
    const unusable =
      record === null || record.revoked || (record.expires_at !== null && record.expires_at <= deps.now());
    const tenant = unusable ? null : await tenants.get(conn, record.tenant_id);
    if (unusable || tenant === null) {
      throw new EdgeError("invalid_api_key", "Incorrect API key provided.");
    }
    c.set("keyRecord", record);
    c.set("tenant", tenant);
    await next();
  };
}
