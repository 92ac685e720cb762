// The admin API under /admin/v1: tenants, their keys and usage. Guarded by
// `Authorization: Bearer $ADMIN_TOKEN` (constant-time compare); answers 404
// when no admin token is configured, so a deployment without one exposes nothing.
import { Hono, type Context } from "hono";
import type { Redis } from "ioredis";
import { z } from "zod";
import { LimitsSchema } from "../../contract/queue/tenancy.js";
import { EdgeError } from "../errors.js";
import { sha256Hex } from "../tenants.js";
import * as store from "./store.js";

export interface AdminDeps {
  adminToken: string | undefined;
  /** runs fn with a Redis connection for this request */
  withRedis<T>(fn: (redis: Redis) => Promise<T>): Promise<T>;
  now(): number;
}

const TenantCreate = z.object({
  name: z.string().min(1).max(200),
  limits: LimitsSchema.optional(),
  priority: z.number().positive().max(1000).optional(),
});
const TenantPatch = z.object({
  name: z.string().min(1).max(200).optional(),
  limits: LimitsSchema.optional(),
  priority: z.number().positive().max(1000).optional(),
});
const KeyCreate = z.object({
  name: z.string().max(200).optional(),
  /** seconds since epoch, like OpenAI's timestamps */
  expires_at: z.number().int().positive().nullable().optional(),
  models: z.array(z.string().min(1)).nullable().optional(),
  limits: LimitsSchema.optional(),
});

/** Same-length digests compared without an early exit, so timing does not leak the token. */
async function tokenMatches(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256Hex(given), sha256Hex(expected)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

async function body<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new EdgeError("invalid_json", "Request body is not valid JSON.");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EdgeError("invalid_request", issue.message, { param: issue.path.join(".") || null });
  }
  return parsed.data;
}

const tenantNotFound = (id: string) => new EdgeError("not_found", `No tenant with id '${id}'.`, { param: "tenant_id" });

export function adminRoutes(deps: AdminDeps): Hono {
  const app = new Hono();

  app.use("*", async (c, next) => {
    if (!deps.adminToken) throw new EdgeError("not_found", "The admin API is disabled: no ADMIN_TOKEN is configured.");
    const auth = c.req.header("authorization") ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    if (!(await tokenMatches(token, deps.adminToken))) throw new EdgeError("invalid_api_key", "Invalid admin token.");
    await next();
  });

  app.post("/tenants", async (c) => {
    const input = await body(c, TenantCreate);
    return c.json(await deps.withRedis((r) => store.createTenant(r, input, deps.now())), 201);
  });
  app.get("/tenants", async (c) => c.json({ object: "list", data: await deps.withRedis((r) => store.listTenants(r)) }));
  app.get("/tenants/:id", async (c) => {
    const t = await deps.withRedis((r) => store.getTenant(r, c.req.param("id")));
    if (!t) throw tenantNotFound(c.req.param("id"));
    return c.json(t);
  });
  app.patch("/tenants/:id", async (c) => {
    const input = await body(c, TenantPatch);
    const t = await deps.withRedis((r) => store.patchTenant(r, c.req.param("id"), input));
    if (!t) throw tenantNotFound(c.req.param("id"));
    return c.json(t);
  });
  app.delete("/tenants/:id", async (c) => {
    const ok = await deps.withRedis((r) => store.deleteTenant(r, c.req.param("id")));
    if (!ok) throw tenantNotFound(c.req.param("id"));
    return c.json({ id: c.req.param("id"), object: "tenant", deleted: true });
  });

  app.post("/tenants/:id/keys", async (c) => {
    const id = c.req.param("id");
    const input = await body(c, KeyCreate);
    const out = await deps.withRedis(async (r) => {
      if (!(await store.getTenant(r, id))) throw tenantNotFound(id);
      return store.createKey(r, id, { ...input, expires_at: input.expires_at ? input.expires_at * 1000 : null }, deps.now());
    });
    return c.json({ ...out.record, key: out.key }, 201);
  });
  app.get("/tenants/:id/keys", async (c) => {
    const id = c.req.param("id");
    const list = await deps.withRedis(async (r) => {
      if (!(await store.getTenant(r, id))) throw tenantNotFound(id);
      return store.listKeys(r, id);
    });
    return c.json({ object: "list", data: list });
  });
  app.delete("/tenants/:id/keys/:keyId", async (c) => {
    const ok = await deps.withRedis((r) => store.revokeKey(r, c.req.param("id"), c.req.param("keyId")));
    if (!ok) throw new EdgeError("not_found", `No key '${c.req.param("keyId")}' for this tenant.`, { param: "key_id" });
    return c.json({ id: c.req.param("keyId"), object: "api_key", revoked: true });
  });
  app.get("/tenants/:id/usage", async (c) => {
    const id = c.req.param("id");
    const days = Math.min(Math.max(Number(c.req.query("days") ?? 7) || 7, 1), 400);
    const usage = await deps.withRedis(async (r) => {
      if (!(await store.getTenant(r, id))) throw tenantNotFound(id);
      return store.tenantUsage(r, id, days, deps.now());
    });
    return c.json({ object: "list", tenant_id: id, data: usage });
  });
  return app;
}
