// Reading environment variables with zod, the same way in every deployable
// (edge/env.ts, pool/env.ts). Runtime-free: the caller passes the variables
// (process.env on Node, the Worker's bindings on workerd).
//
// Rules: an empty (or blank) variable is unset, so `ADMIN_TOKEN=` in a .env
// file means "no admin token" instead of a fatal "too short"; numbers are
// coerced from strings (wrangler may also pass JSON numbers) and a bad one is
// an error naming the variable and quoting the value; booleans accept
// on/off, true/false, 1/0, yes/no; lists are comma-separated.
import { z } from "zod";

/** "" / "  " / null → undefined; anything else unchanged. */
export const unsetIfEmpty = (v: unknown): unknown => (v === null || (typeof v === "string" && v.trim() === "") ? undefined : v);

/** Wraps a variable's schema so that an empty value counts as unset (then `.optional()`/`.default()` apply). */
export const envVar = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema);

const numeric = (integer: boolean) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === "number" ? v : Number(v.trim());
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      ctx.addIssue({ code: "custom", message: `expected ${integer ? "an integer" : "a number"}, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

/** An integer variable, optionally bounded. */
export const envInt = (bounds: { min?: number; max?: number } = {}) => {
  let n = z.number();
  if (bounds.min !== undefined) n = n.min(bounds.min, `must be ≥ ${bounds.min}`);
  if (bounds.max !== undefined) n = n.max(bounds.max, `must be ≤ ${bounds.max}`);
  return numeric(true).pipe(n);
};

/** A (possibly fractional) number variable, optionally bounded below. */
export const envNumber = (bounds: { min?: number; positive?: boolean } = {}) => {
  let n = z.number();
  if (bounds.min !== undefined) n = n.min(bounds.min, `must be ≥ ${bounds.min}`);
  if (bounds.positive) n = n.positive("must be > 0");
  return numeric(false).pipe(n);
};

/** A TCP port (0 = any free port). */
export const envPort = () => envInt({ min: 0, max: 65535 });

const TRUE = new Set(["on", "true", "1", "yes"]);
const FALSE = new Set(["off", "false", "0", "no"]);

/** on/off, true/false, 1/0, yes/no (any case) → boolean. */
export const envBool = () =>
  z.union([z.boolean(), z.string()]).transform((v, ctx) => {
    if (typeof v === "boolean") return v;
    const s = v.trim().toLowerCase();
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
    ctx.addIssue({ code: "custom", message: `expected on/off (or true/false, 1/0, yes/no), got ${JSON.stringify(v)}` });
    return z.NEVER;
  });

/** "a, b,,c" → ["a", "b", "c"]. */
export const envList = () =>
  z.string().transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** "host:port,host:port" (Redis Cluster seeds) → ["host:port", ...]; anything else is an error. */
export const envHostPorts = () =>
  envList().transform((items, ctx) => {
    const bad = items.find((x) => !/^\[?[^\]\s]+?\]?:\d{1,5}$/.test(x));
    if (bad !== undefined || items.length === 0) {
      ctx.addIssue({ code: "custom", message: `expected comma-separated host:port seeds, got ${JSON.stringify(bad ?? "")}` });
      return z.NEVER;
    }
    return items;
  });

/** "host:port" → {host, port}; throws on anything else (env parsing validates first). */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(s.trim());
  if (!m) throw new Error(`not host:port: ${JSON.stringify(s)}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** "k=v,k2=v2" → { k: "v", k2: "v2" }; a piece without "=" is an error. */
export const envMap = () =>
  envList().transform((items, ctx) => {
    const out: Record<string, string> = {};
    for (const item of items) {
      const i = item.indexOf("=");
      if (i <= 0) {
        ctx.addIssue({ code: "custom", message: `expected key=value pairs, got ${JSON.stringify(item)}` });
        return z.NEVER;
      }
      out[item.slice(0, i).trim()] = item.slice(i + 1).trim();
    }
    return out;
  });

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * Deprecated names: `{ OLD: "NEW" }`. When OLD is set and NEW is not, OLD's
 * value is used for NEW and `warn` is called once per process for OLD.
 * Returns the variables with the aliases applied and, per NEW name, the OLD
 * name it came from (for error messages).
 */
export function applyAliases(
  raw: Record<string, unknown>,
  aliases: Record<string, string>,
  warn: (message: string) => void,
): { env: Record<string, unknown>; from: Record<string, string> } {
  const env = { ...raw };
  const from: Record<string, string> = {};
  for (const [old, name] of Object.entries(aliases)) {
    if (unsetIfEmpty(raw[old]) === undefined) continue;
    if (unsetIfEmpty(raw[name]) === undefined) {
      env[name] = raw[old];
      from[name] = old;
    }
    if (!warned.has(old)) {
      warned.add(old);
      warn(`${old} is deprecated and will be removed in the next release: set ${name} instead${from[name] ? "" : ` (${name} is set and wins)`}`);
    }
  }
  return { env, from };
}
const warned = new Set<string>();

/** Test hook: forget which deprecation warnings were already given. */
export function resetAliasWarnings(): void {
  warned.clear();
}

/** "EDGE_PORT: must be ≤ 65535; ADMIN_TOKEN: ..." — every bad variable, by name. */
export function describeEnvError(error: z.ZodError, from: Record<string, string> = {}): string {
  return error.issues
    .map((i) => {
      const name = i.path.length ? String(i.path[0]) : "env";
      return `${name}${from[name] ? ` (set as deprecated ${from[name]})` : ""}: ${i.message}`;
    })
    .join("; ");
}

/** One row of the README's environment table (scripts/env-table.ts). */
export interface EnvRow {
  deployable: string;
  name: string;
  default: string;
  description: string;
}

/**
 * The rows of an env schema: each variable's default is what the schema
 * yields for an unset variable ("" when none), its description the `.describe()` text.
 */
export function envRows(deployable: string, schema: z.ZodObject): EnvRow[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const f = field as z.ZodType;
    const r = f.safeParse(undefined);
    return { deployable, name, default: r.success ? shown(r.data) : "", description: f.description ?? "" };
  });
}

function shown(v: unknown): string {
  if (v === undefined) return "";
  if (typeof v === "boolean") return v ? "on" : "off";
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.length === 0) return "";
  if (typeof v === "object" && v !== null && Object.keys(v).length === 0) return "";
  return JSON.stringify(v);
}

