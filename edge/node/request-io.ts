// Request I/O on Node (edge/api/request-io.ts) straight from @hono/node-server's
// IncomingMessage and ServerResponse. Reading c.req.raw's body or signal makes the
// adapter build a full web Request per request (undici's Request, a web stream over
// the IncomingMessage, an AbortController it aborts on close): without them the
// edge's CPU per admitted request fell by about a third (admission bench, A/B).
// A body over the limit is answered with Connection: close, so Node drops the socket
// instead of reading the rest of a body of any length to reuse the connection.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "hono";
import type { EdgeEnv } from "../deps.js";
import { EdgeError } from "../errors.js";
import { decodeUtf8Node } from "./utf8.js";
import { bodyTooLarge, checkDeclaredLength, concatBytes, emptyBody, webRequestIo, type RequestIo } from "../api/request-io.js";

const CLOSE = { connection: "close" };

function nodeOf(c: Context<EdgeEnv>): { incoming?: IncomingMessage; outgoing?: ServerResponse } {
  return (c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined) ?? {};
}

function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = [];
    let size = 0;
    const stop = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onCut);
      incoming.off("close", onCut);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        stop();
        incoming.pause();
        reject(bodyTooLarge(maxBytes, CLOSE));
        return;
      }
      parts.push(chunk);
    };
    const onEnd = () => {
      stop();
      if (size === 0) reject(emptyBody());
      else resolve(concatBytes(parts, size));
    };
    const onCut = () => {
      stop();
      reject(new EdgeError("invalid_json", "The request body ended before it was complete."));
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onCut);
    incoming.on("close", onCut);
  });
}

export const nodeRequestIo: RequestIo = {
  body(c, maxBytes) {
    const { incoming } = nodeOf(c);
    // app.request() in tests and other hosts: no Node request to read
    if (!incoming || typeof incoming.on !== "function") return webRequestIo.body(c, maxBytes);
    checkDeclaredLength(c, maxBytes, CLOSE);
    if (incoming.readableEnded) return Promise.reject(emptyBody());
    return readIncoming(incoming, maxBytes);
  },
  onClientGone(c, listener) {
    const { outgoing } = nodeOf(c);
    if (!outgoing || typeof outgoing.once !== "function") return webRequestIo.onClientGone(c, listener);
    outgoing.once("close", () => {
      if (!outgoing.writableFinished) listener();
    });
  },
  decodeUtf8: decodeUtf8Node,
};
