// GET /v1/models and GET /v1/models/:id — the models live pools serve (and
// this key may use), in OpenAI's list shape.
import { Hono } from "hono";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";
import { EdgeError } from "../errors.js";
import type { ServedModel } from "../models.js";

function toModel(m: ServedModel) {
  return { id: m.id, object: "model", created: m.created, owned_by: "speedgate" };
}

export function modelRoutes(deps: ResolvedDeps): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.get("/models", async (c) => {
    const allowed = c.get("keyRecord").models;
    const list = (await deps.models.list(c.get("conn"))).filter((m) => allowed === null || allowed.includes(m.id));
    return c.json({ object: "list", data: list.map(toModel) });
  });
  // Model ids may contain slashes (e.g. "Qwen/Qwen3-8B").
  app.get("/models/:id{.+}", async (c) => {
    const id = c.req.param("id");
    const allowed = c.get("keyRecord").models;
    const m = allowed === null || allowed.includes(id) ? await deps.models.find(c.get("conn"), id) : null;
    if (!m) throw new EdgeError("model_not_found", `The model '${id}' does not exist or is not being served right now.`, { param: "model" });
    return c.json(toModel(m));
  });
  return app;
}
