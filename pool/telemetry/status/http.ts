// The pool's internal HTTP port (POOL_HTTP_PORT): GET /metrics (Prometheus),
// GET /status (live page), GET /status.json (what the page polls), GET /healthz.
// Meant for the private network of the GPU hosts. With an admin token set,
// /status and /status.json require it (Authorization: Bearer <token>, or
// ?token=<token> for a browser); listening beyond loopback without one, they
// stay closed (what a tenant sends is visible there). /metrics and /healthz
// stay open for scrapers and probes.
import { createHash, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import { statusPage } from "./page.js";
import type { StatusSnapshot } from "./snapshot.js";

export interface StatusServerOptions {
  port: number;
  host: string;
  registry: Registry;
  snapshot(): Promise<StatusSnapshot>;
  adminToken?: string;
  /** how often the page polls (ms) */
  pollMs?: number;
}

export interface StatusServer {
  port: number;
  /** base URL, e.g. http://127.0.0.1:9464 */
  url: string;
  close(): Promise<void>;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

export async function startStatusServer(o: StatusServerOptions): Promise<StatusServer> {
  const want = o.adminToken ? digest(o.adminToken) : undefined;
  const openWithoutToken = isLoopback(o.host);
  const page = statusPage({ pollMs: o.pollMs ?? 1_000 });
  const authorized = (req: IncomingMessage, url: URL): boolean => {
    if (!want) return openWithoutToken;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    const given = m?.[1] ?? url.searchParams.get("token");
    return given !== null && timingSafeEqual(digest(given), want);
  };
  const send = (res: ServerResponse, status: number, type: string, body: string) =>
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" }).end(body);

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://pool.internal");
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "text/plain", "method not allowed\n");
    const fail = (e: Error) => send(res, 500, "text/plain", `failed: ${e.message}\n`);
    switch (url.pathname) {
      case "/metrics":
        o.registry.metrics().then((text) => send(res, 200, o.registry.contentType, text), fail);
        return;
      case "/healthz":
        return send(res, 200, "text/plain", "ok\n");
      case "/":
        res.writeHead(302, { location: `/status${url.search}` }).end();
        return;
      case "/status":
        if (!authorized(req, url)) return send(res, 401, "text/plain", want ? "admin token required: /status?token=<ADMIN_TOKEN>\n" : "set ADMIN_TOKEN to see the status page beyond loopback\n");
        return send(res, 200, "text/html; charset=utf-8", page);
      case "/status.json":
        if (!authorized(req, url)) return send(res, 401, "application/json", JSON.stringify({ error: "unauthorized" }));
        o.snapshot().then((s) => send(res, 200, "application/json", JSON.stringify(s)), fail);
        return;
      default:
        return send(res, 404, "text/plain", "not found\n");
    }
  });
  server.listen(o.port, o.host);
  await once(server, "listening"); // rejects on "error" (e.g. EADDRINUSE)
  const port = (server.address() as { port: number }).port;
  const shown = o.host === "0.0.0.0" || o.host === "::" ? "127.0.0.1" : o.host;
  return {
    port,
    url: `http://${shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
