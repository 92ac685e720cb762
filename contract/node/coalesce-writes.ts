// One socket write per event-loop turn on a Redis connection. The edge's connection
// runs without ioredis's auto-pipelining (edge/entry-node.ts says why), so every
// command of every request was its own write syscall: the largest single item of an
// admission profile at 32 concurrent clients. Corking the socket on a turn's first
// write and uncorking it on the next tick sends that turn's commands (all the
// requests whose replies arrived together) in one writev. Commands, their order and
// how replies are matched do not change; a write goes out at the end of the turn that
// made it, never later.
import type { Socket } from "node:net";
import type { Cluster, Redis } from "ioredis";

const COALESCED = Symbol("coalescedWrites");

function coalesceSocket(socket: Socket & { [COALESCED]?: true }): void {
  if (socket[COALESCED]) return;
  socket[COALESCED] = true;
  const write = socket.write;
  let corked = false;
  const flush = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: Socket, ...args: Parameters<Socket["write"]>) {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(flush);
    }
    return write.apply(this, args);
  } as Socket["write"];
}

/** Coalesces the writes of `redis` (every node's, on a cluster), now and after each reconnect. */
export function coalesceWrites(redis: Redis | Cluster): void {
  if ("nodes" in redis && typeof redis.nodes === "function") {
    for (const node of redis.nodes()) coalesceWrites(node);
    redis.on("+node", (node: Redis) => coalesceWrites(node));
    return;
  }
  const r = redis as Redis & { stream?: Socket };
  const wrap = () => {
    if (r.stream && typeof r.stream.cork === "function") coalesceSocket(r.stream);
  };
  r.on("connect", wrap);
  wrap();
}
