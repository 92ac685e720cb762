// Checks a client's JSON Schema (tool parameters, structured output) before it
// is queued: the engine's grammar backend compiles it into a constraint, and a
// schema it cannot compile would otherwise fail the request later as a worker
// error. No code generation (workerd forbids eval), just a walk that accepts
// the keywords constrained decoding supports (the JSON Schema subset xgrammar
// and OpenAI's structured outputs document) and refuses the rest.

const TYPES = new Set(["object", "array", "string", "number", "integer", "boolean", "null"]);

/** Keywords with no effect on the grammar (annotations) or handled below. */
const ANNOTATIONS = new Set(["title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly"]);
const SUPPORTED = new Set([
  "type", "properties", "required", "additionalProperties", "items", "prefixItems", "minItems", "maxItems",
  "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "$defs", "definitions", "minLength", "maxLength",
  "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "nullable", "uniqueItems",
  "minProperties", "maxProperties", "multipleOf", "strict",
]);
const FORMATS = new Set(["date-time", "date", "time", "email", "uri", "uuid", "ipv4", "ipv6", "hostname", "duration"]);

const MAX_DEPTH = 32;
const MAX_NODES = 4_096;

export interface SchemaProblem {
  /** JSON pointer-ish path inside the schema, e.g. "properties.city.type" */
  path: string;
  message: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Returns the first problem that makes `schema` unusable as a constraint, or null. */
export function checkJsonSchema(schema: unknown): SchemaProblem | null {
  if (!isObject(schema)) return { path: "", message: "a JSON Schema must be an object" };
  let nodes = 0;
  const root = schema;

  const visit = (node: unknown, path: string, depth: number): SchemaProblem | null => {
    if (typeof node === "boolean") return null; // true / false schemas
    if (!isObject(node)) return { path, message: "expected a schema object" };
    if (++nodes > MAX_NODES) return { path, message: `the schema has more than ${MAX_NODES} nodes` };
    if (depth > MAX_DEPTH) return { path, message: `the schema nests deeper than ${MAX_DEPTH} levels` };
    const at = (k: string) => (path ? `${path}.${k}` : k);
    for (const [k, v] of Object.entries(node)) {
      if (ANNOTATIONS.has(k)) continue;
      if (!SUPPORTED.has(k)) return { path: at(k), message: `the keyword '${k}' is not supported` };
      const bad = checkKeyword(k, v, at(k));
      if (bad) return bad;
    }
    for (const k of ["properties", "$defs", "definitions"]) {
      const m = node[k];
      if (m === undefined) continue;
      if (!isObject(m)) return { path: at(k), message: "expected an object of schemas" };
      for (const [name, sub] of Object.entries(m)) {
        const bad = visit(sub, `${at(k)}.${name}`, depth + 1);
        if (bad) return bad;
      }
    }
    for (const k of ["items", "additionalProperties"]) {
      if (node[k] !== undefined) {
        const bad = visit(node[k], at(k), depth + 1);
        if (bad) return bad;
      }
    }
    for (const k of ["anyOf", "oneOf", "allOf", "prefixItems"]) {
      const list = node[k];
      if (list === undefined) continue;
      if (!Array.isArray(list) || list.length === 0) return { path: at(k), message: "expected a non-empty array of schemas" };
      for (let i = 0; i < list.length; i++) {
        const bad = visit(list[i], `${at(k)}.${i}`, depth + 1);
        if (bad) return bad;
      }
    }
    if (typeof node.$ref === "string" && resolveRef(root, node.$ref) === undefined) {
      return { path: at("$ref"), message: `'${node.$ref}' does not point to a definition in this schema` };
    }
    return null;
  };
  return visit(schema, "", 0);
}

function checkKeyword(k: string, v: unknown, path: string): SchemaProblem | null {
  switch (k) {
    case "type": {
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0 || !list.every((t) => typeof t === "string" && TYPES.has(t))) {
        return { path, message: `expected one of ${[...TYPES].join(", ")} (or an array of them)` };
      }
      return null;
    }
    case "required":
      return Array.isArray(v) && v.every((x) => typeof x === "string") ? null : { path, message: "expected an array of property names" };
    case "enum":
      return Array.isArray(v) && v.length > 0 ? null : { path, message: "expected a non-empty array" };
    case "pattern":
      if (typeof v !== "string") return { path, message: "expected a regular expression string" };
      try {
        new RegExp(v, "u");
        return null;
      } catch {
        return { path, message: "not a valid regular expression" };
      }
    case "format":
      return typeof v === "string" && FORMATS.has(v) ? null : { path, message: `expected one of the formats ${[...FORMATS].join(", ")}` };
    case "$ref":
      return typeof v === "string" && v.startsWith("#") ? null : { path, message: "only local references ('#/$defs/...') are supported" };
    case "minLength": case "maxLength": case "minItems": case "maxItems": case "minProperties": case "maxProperties":
      return Number.isInteger(v) && (v as number) >= 0 ? null : { path, message: "expected a non-negative integer" };
    case "minimum": case "maximum": case "exclusiveMinimum": case "exclusiveMaximum": case "multipleOf":
      return typeof v === "number" && Number.isFinite(v) ? null : { path, message: "expected a number" };
    case "nullable": case "uniqueItems": case "strict":
      return typeof v === "boolean" ? null : { path, message: "expected a boolean" };
    default:
      return null;
  }
}

/** Resolves a local "#/a/b" reference inside `root`. */
function resolveRef(root: Json, ref: string): unknown {
  if (ref === "#") return root;
  if (!ref.startsWith("#/")) return undefined;
  let cur: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    const part = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(cur) || !(part in cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}
