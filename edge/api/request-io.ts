// How a route reads its request's body and learns that its client left. The default
// uses the web Request (what every runtime has, and what workerd gives); the Node
// entry reads Node's own request and response instead (edge/node/request-io.ts).
import type { Context } from "hono";
import type { EdgeEnv } from "../deps.js";
import { EdgeError } from "../errors.js";

export interface RequestIo {
  /** The whole body, refused with a 413 past `maxBytes` (declared or as it arrives). */
  body(c: Context<EdgeEnv>, maxBytes: number): Promise<Uint8Array>;
  /** Calls `listener` (at most once) if the client leaves before its response is complete. */
  onClientGone(c: Context<EdgeEnv>, listener: () => void): void;
  /** A body's bytes as text, a leading BOM dropped; undefined when they are not valid UTF-8. */
  decodeUtf8(bytes: Uint8Array): string | undefined;
}

/** The web's decoder (what every runtime has): a leading BOM is dropped, invalid UTF-8 throws. */
export function decodeUtf8Web(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}

export function bodyTooLarge(maxBytes: number, headers?: Record<string, string>): EdgeError {
  return new EdgeError("payload_too_large", `The request body exceeds ${maxBytes} bytes.`, { headers });
}

export function emptyBody(): EdgeError {
  return new EdgeError("invalid_json", "The request body is empty; send a JSON object.");
}

/** A Content-Length over the limit is refused before a byte is read. */
export function checkDeclaredLength(c: Context<EdgeEnv>, maxBytes: number, headers?: Record<string, string>): void {
  const declared = Number(c.req.header("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw bodyTooLarge(maxBytes, headers);
}

export function concatBytes(parts: readonly Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const bytes = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.byteLength;
  }
  return bytes;
}

export const webRequestIo: RequestIo = {
  async body(c, maxBytes) {
    checkDeclaredLength(c, maxBytes);
    const body = c.req.raw.body;
    if (!body) throw emptyBody();
    const reader = body.getReader();
    const parts: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw bodyTooLarge(maxBytes);
      }
      parts.push(value);
    }
    return concatBytes(parts, size);
  },
  onClientGone(c, listener) {
    c.req.raw.signal?.addEventListener("abort", listener, { once: true });
  },
  decodeUtf8: decodeUtf8Web,
};
