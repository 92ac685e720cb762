// Starts a private redis-server on a free port for a test file, so tests never
// depend on (or disturb) a machine-wide Redis and can kill/restart their own.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { once } from "node:events";
import { Redis } from "ioredis";

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, "close");
  return port;
}

export interface RedisServer {
  port: number;
  url: string;
  /** A new client; closed by stop(). */
  client(): Redis;
  /** SIGKILL the server (data is lost: no persistence). */
  kill(): Promise<void>;
  /** Start it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function launch(port: number): Promise<ChildProcess> {
  const proc = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  proc.on("error", () => {});
  // Wait until it answers PING (not a sleep: poll the real server). A fresh probe per
  // attempt: an ioredis client reconnected after a failed connect() can hang.
  for (let i = 0; i < 200; i++) {
    const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => {});
    try {
      await probe.connect();
      await probe.ping();
      return proc;
    } catch {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
      await new Promise((r) => setTimeout(r, 25));
    } finally {
      probe.disconnect();
    }
  }
  proc.kill("SIGKILL");
  throw new Error("redis-server did not start");
}

/** How many times Redis has run `command` (INFO commandstats; commands run by scripts included). */
export async function commandCalls(redis: Redis, command: string): Promise<number> {
  const stats = String(await redis.info("commandstats"));
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let proc = await launch(port);
  const clients: Redis[] = [];
  const kill = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return; // already gone (a SIGKILL leaves exitCode null)
    const exited = once(proc, "exit");
    proc.kill("SIGKILL");
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client() {
      const c = new Redis({ port, host: "127.0.0.1" });
      c.on("error", () => {}); // expected while a test has the server killed
      clients.push(c);
      return c;
    },
    kill,
    async restart() {
      await kill();
      proc = await launch(port);
    },
    async stop() {
      for (const c of clients) c.disconnect();
      await kill();
    },
  };
}
