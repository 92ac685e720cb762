// A TCP proxy that holds every chunk for `oneWayMs` in each direction, so the edge sits
// as far from Redis as a Worker does from its Redis (`npm run bench -- --edge-redis-rtt-ms`):
// what each round trip on a request's path costs then shows in its TTFT. Chunks keep
// their order (timers of one duration fire in the order they were set); no backpressure,
// which a benchmark's few MB do not need.
import { connect, createServer, type Socket } from "node:net";
import { once } from "node:events";

export interface DelayProxy {
  url: string;
  close(): Promise<void>;
}

export async function startDelayProxy(targetUrl: string, oneWayMs: number): Promise<DelayProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  };
  const relay = (from: Socket, to: Socket) => {
    from.on("data", (chunk) => setTimeout(() => to.write(chunk), oneWayMs));
    from.on("end", () => setTimeout(() => to.end(), oneWayMs));
    from.on("close", () => setTimeout(() => to.destroy(), oneWayMs));
  };
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    track(client);
    track(upstream);
    relay(client, upstream);
    relay(upstream, client);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  const url = new URL(targetUrl);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
}
