// GET /v1/responses/{id}/input_items: a stored response's input items as an
// OpenAI list page (order desc by default, limit 1-100, after = an item id).
import { EdgeError } from "../errors.js";
import type { Item } from "./items.js";

export function listItems(items: readonly Item[], query: Record<string, string>) {
  const order = query.order ?? "desc";
  if (order !== "asc" && order !== "desc") throw new EdgeError("invalid_request", "'order' must be 'asc' or 'desc'.", { param: "order" });
  const limit = query.limit === undefined ? 20 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new EdgeError("invalid_request", "'limit' must be an integer from 1 to 100.", { param: "limit" });
  const all = order === "asc" ? [...items] : [...items].reverse();
  let start = 0;
  if (query.after !== undefined) {
    const at = all.findIndex((it) => it.id === query.after);
    if (at < 0) throw new EdgeError("invalid_request", `No input item '${query.after}' in this response.`, { param: "after" });
    start = at + 1;
  }
  if (query.before !== undefined) throw new EdgeError("invalid_request", "'before' is not supported; page with 'after'.", { param: "before" });
  const data = all.slice(start, start + limit);
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: start + limit < all.length };
}
