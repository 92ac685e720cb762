// Generates a JSON value that validates against a JSON Schema: tool-call
// arguments and json_schema-constrained outputs. A real engine's grammar
// backend can only emit schema-valid text, so neither may the simulation.
// Supported: type (incl. lists), properties/required, additionalProperties,
// enum, const, items/prefixItems, min/maxItems, min/maxLength, pattern,
// minimum/maximum (exclusive too), multipleOf (integers), anyOf/oneOf (first
// branch), allOf (merged), $ref into #/$defs or #/definitions (any local pointer).
import { regexString } from "./regex-gen.js";
import type { Rng } from "./rng.js";

export class SchemaError extends Error {}

type Schema = Record<string, unknown>;

const WORDS = ["alpha", "Paris", "blue", "sample", "Tokyo", "river", "quick", "value", "north", "delta", "seven", "cloud"];
/** Beyond this depth objects keep only required keys and arrays their minimum, so recursive $refs terminate. */
const MAX_DEPTH = 6;

function resolveRef(ref: string, root: unknown): Schema {
  if (!ref.startsWith("#")) throw new SchemaError(`unsupported $ref "${ref}" (only local refs)`);
  let node: unknown = root;
  for (const raw of ref.slice(1).split("/").filter(Boolean)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object" || !(key in (node as Schema))) throw new SchemaError(`unresolvable $ref "${ref}"`);
    node = (node as Schema)[key];
  }
  if (typeof node === "boolean") return node ? {} : { not: {} };
  if (node === null || typeof node !== "object") throw new SchemaError(`$ref "${ref}" does not point to a schema`);
  return node as Schema;
}

function asSchema(s: unknown): Schema {
  if (s === true || s === undefined) return {};
  if (s === false) throw new SchemaError("schema `false` accepts no value");
  if (s === null || typeof s !== "object" || Array.isArray(s)) throw new SchemaError(`invalid schema: ${JSON.stringify(s)}`);
  return s as Schema;
}

/** Follows $ref, picks the first anyOf/oneOf branch and merges allOf, so only one plain schema remains. */
function normalize(s: Schema, root: unknown, seen = 0): Schema {
  if (seen > 32) throw new SchemaError("$ref cycle without content");
  if (typeof s.$ref === "string") {
    const { $ref, ...rest } = s;
    return normalize({ ...resolveRef($ref as string, root), ...rest }, root, seen + 1);
  }
  for (const k of ["anyOf", "oneOf"] as const) {
    const alts = s[k];
    if (Array.isArray(alts) && alts.length) {
      const { [k]: _drop, ...rest } = s;
      return normalize({ ...rest, ...asSchema(alts[0]) }, root, seen + 1);
    }
  }
  if (Array.isArray(s.allOf)) {
    const { allOf, ...rest } = s;
    let merged: Schema = rest;
    for (const part of allOf as unknown[]) {
      const p = normalize(asSchema(part), root, seen + 1);
      merged = {
        ...merged,
        ...p,
        properties: { ...(merged.properties as Schema), ...(p.properties as Schema) },
        required: [...((merged.required as string[]) ?? []), ...((p.required as string[]) ?? [])],
      };
    }
    return normalize(merged, root, seen + 1);
  }
  return s;
}

function typeOf(s: Schema): string {
  const t = s.type;
  if (typeof t === "string") return t;
  if (Array.isArray(t) && t.length) return (t.find((x) => x !== "null") ?? t[0]) as string;
  if (s.properties || s.additionalProperties !== undefined || s.required) return "object";
  if (s.items || s.prefixItems) return "array";
  if (s.minimum !== undefined || s.maximum !== undefined) return "number";
  return "string";
}

function genString(s: Schema, rng: Rng): string {
  const min = typeof s.minLength === "number" ? s.minLength : 0;
  const max = typeof s.maxLength === "number" ? s.maxLength : Math.max(min, 24);
  if (typeof s.pattern === "string") {
    return regexString(s.pattern, rng, 4);
  }
  switch (s.format) {
    case "date-time":
      return `2024-0${rng.int(1, 9)}-1${rng.int(0, 9)}T0${rng.int(0, 9)}:30:00Z`;
    case "date":
      return `2024-0${rng.int(1, 9)}-1${rng.int(0, 9)}`;
    case "email":
      return `${rng.pick(WORDS).toLowerCase()}@example.com`;
    case "uri":
      return `https://example.com/${rng.pick(WORDS).toLowerCase()}`;
    case "uuid":
      return "123e4567-e89b-12d3-a456-42661417400" + rng.int(0, 9);
  }
  let out = rng.pick(WORDS);
  while (out.length < min) out += " " + rng.pick(WORDS);
  if (out.length > max) out = out.slice(0, max);
  while (out.length < min) out += "x";
  return out;
}

function genNumber(s: Schema, rng: Rng, integer: boolean): number {
  const n = (k: string) => (typeof s[k] === "number" ? (s[k] as number) : undefined);
  let lo = n("minimum") ?? (n("exclusiveMinimum") !== undefined ? n("exclusiveMinimum")! + (integer ? 1 : 0.01) : undefined);
  let hi = n("maximum") ?? (n("exclusiveMaximum") !== undefined ? n("exclusiveMaximum")! - (integer ? 1 : 0.01) : undefined);
  if (lo === undefined && hi === undefined) [lo, hi] = [0, 100];
  else if (lo === undefined) lo = Math.min(0, hi!) - (hi! >= 0 ? 0 : 100);
  else if (hi === undefined) hi = lo + 100;
  if (integer) {
    const a = Math.ceil(lo!);
    const b = Math.floor(hi!);
    if (a > b) throw new SchemaError(`no integer in [${lo}, ${hi}]`);
    const m = n("multipleOf");
    if (m && Number.isInteger(m) && m > 0) {
      const first = Math.ceil(a / m) * m;
      if (first <= b) return first + m * rng.int(0, Math.floor((b - first) / m));
    }
    return rng.int(a, b);
  }
  if (lo! > hi!) throw new SchemaError(`empty range [${lo}, ${hi}]`);
  // Two decimals keep the JSON short; clamp back into range after rounding.
  const v = Math.round((lo! + rng.next() * (hi! - lo!)) * 100) / 100;
  return Math.min(hi!, Math.max(lo!, v));
}

function genArray(s: Schema, rng: Rng, root: unknown, depth: number): unknown[] {
  const prefix = Array.isArray(s.prefixItems) ? (s.prefixItems as unknown[]) : Array.isArray(s.items) ? (s.items as unknown[]) : [];
  const itemSchema = Array.isArray(s.items) ? s.additionalItems : s.items;
  const min = Math.max(typeof s.minItems === "number" ? s.minItems : 0, 0);
  const max = typeof s.maxItems === "number" ? s.maxItems : Math.max(min, 3);
  let count = depth >= MAX_DEPTH ? min : Math.min(max, Math.max(min, rng.int(1, 3)));
  if (itemSchema === false || (prefix.length && itemSchema === undefined && Array.isArray(s.items))) count = Math.min(count, prefix.length);
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) out.push(gen(i < prefix.length ? prefix[i] : itemSchema, rng, root, depth + 1));
  return out;
}

function genObject(s: Schema, rng: Rng, root: unknown, depth: number): Record<string, unknown> {
  const props = (s.properties ?? {}) as Record<string, unknown>;
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    // Optional properties appear about half the time (never past the depth cap).
    if (required.has(k) || (depth < MAX_DEPTH && rng.chance(0.5))) out[k] = gen(v, rng, root, depth + 1);
  }
  const extra = s.additionalProperties;
  for (const k of required) {
    if (!(k in out)) {
      if (extra === false) throw new SchemaError(`required property "${k}" is not allowed by additionalProperties false`);
      out[k] = gen(typeof extra === "object" ? extra : {}, rng, root, depth + 1);
    }
  }
  // A bare {"type":"object"} still gets some content, like a model would write.
  const minProps = typeof s.minProperties === "number" ? s.minProperties : !Object.keys(props).length && depth < MAX_DEPTH ? 1 : 0;
  for (let i = 0; Object.keys(out).length < minProps && extra !== false && i < 64; i++) {
    const key = `${rng.pick(WORDS).toLowerCase()}_${i}`;
    if (!(key in out)) out[key] = gen(typeof extra === "object" ? extra : { type: "string" }, rng, root, depth + 1);
  }
  return out;
}

function gen(raw: unknown, rng: Rng, root: unknown, depth: number): unknown {
  const s = normalize(asSchema(raw), root);
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum)) {
    if (!s.enum.length) throw new SchemaError("empty enum");
    return rng.pick(s.enum);
  }
  switch (typeOf(s)) {
    case "object":
      return genObject(s, rng, root, depth);
    case "array":
      return genArray(s, rng, root, depth);
    case "string":
      return genString(s, rng);
    case "integer":
      return genNumber(s, rng, true);
    case "number":
      return genNumber(s, rng, false);
    case "boolean":
      return rng.chance(0.5);
    case "null":
      return null;
    default:
      throw new SchemaError(`unsupported type ${JSON.stringify(s.type)}`);
  }
}

/** A value valid against `schema` (an object or boolean JSON Schema). Throws SchemaError when it cannot. */
export function schemaValue(schema: unknown, rng: Rng): unknown {
  return gen(schema, rng, schema, 0);
}

/**
 * JSON with Python json.dumps separators (", " and ": "), the way Qwen3's
 * template (Jinja tojson) renders arguments, so the sim writes what a model
 * trained on that template would.
 */
export function pyJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJson).join(", ")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`)
      .join(", ")}}`;
  }
  return JSON.stringify(v) ?? "null";
}
