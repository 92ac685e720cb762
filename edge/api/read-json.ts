// Reads a request body as JSON, enforcing the size limit even without
// Content-Length (chunked uploads), with a clear 400/413 for every failure. A large
// body first goes to the runtime's body checker, if it has one (Node: threads), which
// refuses what the route would refuse (bad JSON, a bad field, a prompt over the
// context) without parsing megabytes on the event loop every request shares.
import type { Context } from "hono";
import type { EdgeEnv, ResolvedDeps } from "../deps.js";
import { EdgeError } from "../errors.js";
import type { ServedModel } from "../models.js";
import type { BodyKind } from "./body-requests.js";
import type { RequestIo } from "./request-io.js";

export interface BodyChecker {
  /** bodies of at least this many bytes are checked */
  readonly minBytes: number;
  /** Throws the EdgeError the route would throw for this body; returns when the route must decide. */
  check(kind: BodyKind, bytes: Uint8Array, models: readonly ServedModel[]): Promise<void>;
}

/** The body of a request to the route for `kind`, parsed. */
export async function readJson(c: Context<EdgeEnv>, deps: ResolvedDeps, kind: BodyKind): Promise<unknown> {
  const bytes = await deps.io.body(c, deps.config.maxBodyBytes);
  const checker = deps.bodyCheck;
  if (checker && bytes.byteLength >= checker.minBytes) {
    // Only the models this key may use: for any other the route answers permission_denied first.
    const allowed = c.get("keyRecord").models;
    const models = (await deps.models.list(c.get("conn"))).filter((m) => allowed === null || allowed.includes(m.id));
    await checker.check(kind, bytes, models);
  }
  return parseJson(bytes, deps.io.decodeUtf8);
}

/**
 * UTF-8 JSON bytes, parsed; the same 400s wherever it runs (event loop or body-check
 * thread) and whichever decoder the runtime gives (`decode`: RequestIo.decodeUtf8).
 */
export function parseJson(bytes: Uint8Array, decode: RequestIo["decodeUtf8"]): unknown {
  const text = decode(bytes);
  if (text === undefined) throw new EdgeError("invalid_json", "The request body is not valid UTF-8.");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new EdgeError("invalid_json", `We could not parse the JSON body of your request. (${(err as Error).message})`);
  }
  // JSON may escape half a surrogate pair ("\ud83d"): such a string is not Unicode text,
  // and Redis's Lua JSON (cjson) cannot carry it to the pool. Refuse it here, by path.
  if (/\\u[dD][89a-fA-F]/.test(text)) {
    const bad = loneSurrogatePath(value, "");
    if (bad !== undefined) throw new EdgeError("invalid_request", "A string holds an unpaired UTF-16 surrogate escape; send valid Unicode text.", { param: bad || null });
  }
  return value;
}

/** The path (dotted, as zod errors name params) of the first string that is not well-formed Unicode. */
function loneSurrogatePath(v: unknown, path: string): string | undefined {
  if (typeof v === "string") return isWellFormed(v) ? undefined : path;
  if (v === null || typeof v !== "object") return undefined;
  for (const [k, x] of Object.entries(v)) {
    const keyBad = !isWellFormed(k);
    const sub = path ? `${path}.${k}` : k;
    if (keyBad) return sub;
    const found = loneSurrogatePath(x, sub);
    if (found !== undefined) return found;
  }
  return undefined;
}

const isWellFormed = (s: string) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
