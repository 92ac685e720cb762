// Optional tiny HTTP admin endpoint for manual demos (main.ts --admin-port):
//   GET  /stats                      -> stats of every worker in this process
//   POST /fault {kind, port?, ...}   -> apply a fault to one worker (port) or all
// kinds: crash | hang {on?} | unhang | failBeforeFirstToken {n} |
//        failMidStream {n, afterTokens} | slowdown {factor} | reset
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { SimWorker } from "./server.js";

export interface FaultCommand {
  kind: string;
  port?: number;
  n?: number;
  afterTokens?: number;
  factor?: number;
  on?: boolean;
}

export function applyFault(w: SimWorker, cmd: FaultCommand): void {
  const f = w.faults;
  switch (cmd.kind) {
    case "crash":
      return f.crash();
    case "hang":
      return f.hang(cmd.on ?? true);
    case "unhang":
      return f.hang(false);
    case "failBeforeFirstToken":
      return f.failBeforeFirstToken(cmd.n ?? 1);
    case "failMidStream":
      return f.failMidStream(cmd.n ?? 1, cmd.afterTokens ?? 5);
    case "slowdown":
      return f.slowdown(cmd.factor ?? 2);
    case "reset":
      return f.reset();
    default:
      throw new Error(`unknown fault kind: ${cmd.kind}`);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const p of req) parts.push(p as Buffer);
  const text = Buffer.concat(parts).toString("utf8");
  return text ? JSON.parse(text) : {};
}

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

export async function startAdminHttp(workers: SimWorker[], port: number, host = "127.0.0.1"): Promise<Server> {
  const server = createServer(async (req, res) => {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(json(body));
    };
    try {
      if (req.method === "GET" && req.url === "/stats") {
        return send(200, workers.map((w) => ({ address: w.address, faults: w.faults.state(), ...w.stats() })));
      }
      if (req.method === "POST" && req.url === "/fault") {
        const cmd = (await readJson(req)) as FaultCommand;
        if (typeof cmd?.kind !== "string") return send(400, { error: "body must be {kind, port?, ...}" });
        const targets = cmd.port === undefined ? workers : workers.filter((w) => w.port === cmd.port);
        if (!targets.length) return send(404, { error: `no worker on port ${cmd.port}` });
        // Answer before a crash takes the process down.
        if (cmd.kind === "crash") {
          send(200, { ok: true, applied: targets.map((w) => w.address) });
          setImmediate(() => targets.forEach((w) => applyFault(w, cmd)));
          return;
        }
        for (const w of targets) applyFault(w, cmd);
        return send(200, { ok: true, applied: targets.map((w) => w.address) });
      }
      send(404, { error: "not found" });
    } catch (err) {
      send(400, { error: (err as Error).message });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
