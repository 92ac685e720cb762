// Request fields an API knows but we cannot honour: a table of checks per field,
// each answering why a value is refused (or null), so a client that sends one gets
// a 400 naming it rather than an answer that silently ignored it. Shared by the
// chat/completions, Responses and Messages surfaces.
import { EdgeError } from "../errors.js";

export type Check = (value: unknown) => string | null;

export const unset = (v: unknown): boolean => v === undefined || v === null;

/** Refuses any value that is set. */
export const refuse =
  (why: string): Check =>
  (v) =>
    unset(v) ? null : why;

/** Throws a 400 naming the first field of `body` whose check refuses it. */
export function refuseFields(table: Record<string, Check>, body: unknown): void {
  if (body === null || typeof body !== "object") return;
  for (const [param, fn] of Object.entries(table)) {
    const why = fn((body as Record<string, unknown>)[param]);
    if (why) throw new EdgeError("invalid_request", why, { param });
  }
}
