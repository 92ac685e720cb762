// `npm run dev`: the whole system on one machine, for trying it out: a private
// redis-server (unless REDIS_URL or REDIS_CLUSTER_NODES is set; with
// DEV_REDIS_CLUSTER=on a private 3-master, 3-replica Redis Cluster), SIM_WORKERS simulated TokenSpeed
// workers (one process each, so one can be killed with SIGKILL to watch the
// pool recover), the pool manager and the edge on EDGE_PORT. Seeds a demo
// tenant, prints the base URL, the key and a curl example; Ctrl-C stops it all.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { envBool, envHostPorts } from "../contract/env.js";
import { connectRedis } from "../contract/node/redis-connect.js";
import { seedApiKey } from "../edge/tenants.js";
import { startRedisCluster, type RedisClusterServer } from "./redis-cluster.js";
import { startStack, type Stack } from "./stack.js";

const Env = z.object({
  REDIS_URL: z.string().url().optional(),
  REDIS_CLUSTER_NODES: envHostPorts().optional(),
  DEV_REDIS_CLUSTER: envBool().default(false),
  EDGE_PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  SIM_WORKERS: z.coerce.number().int().min(1).max(16).default(2),
  DEMO_API_KEY: z.string().min(8).optional(),
  SIM_DECODE_MS: z.coerce.number().positive().default(20),
});
const parsed = Env.safeParse(process.env);
if (!parsed.success) {
  console.error("Bad environment for npm run dev:\n" + z.prettifyError(parsed.error));
  process.exit(2);
}
const env = parsed.data;

let stack: Stack | undefined;
let privateCluster: RedisClusterServer | undefined;
let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log("[dev] stopping…");
    await stack?.stop();
    await privateCluster?.stop();
  }
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

async function main(): Promise<void> {
  if (env.DEV_REDIS_CLUSTER && !env.REDIS_CLUSTER_NODES) privateCluster = await startRedisCluster();
  const clusterNodes = env.REDIS_CLUSTER_NODES ?? privateCluster?.seeds;
  stack = await startStack({
    redisUrl: clusterNodes ? undefined : env.REDIS_URL,
    redisClusterNodes: clusterNodes,
    simWorkers: env.SIM_WORKERS,
    edgePort: env.EDGE_PORT,
    simArgs: ["--decode-ms-per-token", String(env.SIM_DECODE_MS)],
    onLine: (name, line) => console.log(`[${name}] ${line}`),
  });
  const apiKey = env.DEMO_API_KEY ?? `sk-demo-${randomBytes(18).toString("base64url")}`;
  const redis = connectRedis({ url: stack.redisUrl, clusterNodes });
  await seedApiKey(redis, { tenantId: "demo", tenantName: "Demo tenant", key: apiKey });
  redis.disconnect();

  const res = await fetch(`${stack.baseUrl}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
  const models = (await res.json()) as { data?: { id: string }[] };
  const model = models.data?.[0]?.id ?? "qwen3-sim";
  console.log(`
speedgate is running${redisWhere(clusterNodes)}.
  base URL : ${stack.baseUrl}/v1
  API key  : ${apiKey}
  model    : ${model}
  workers  : ${stack.workerAddrs.map((a, i) => `${a} (pid ${stack!.workers[i].pid})`).join(", ")}
             kill -9 one of them mid-stream: the pool moves its streams to the other.
  status   : ${stack.poolHttp ? `${stack.poolHttp}/status  (live workers, queues, tokens/s)` : "(pool HTTP off)"}
  metrics  : ${[stack.poolHttp && `${stack.poolHttp}/metrics`, stack.edgeMetrics].filter(Boolean).join(", ") || "(off)"}

Try:
  curl -N ${stack.baseUrl}/v1/chat/completions \\
    -H "Authorization: Bearer ${apiKey}" -H "Content-Type: application/json" \\
    -d '{"model":"${model}","stream":true,"messages":[{"role":"user","content":"Hello!"}]}'

Ctrl-C stops everything.
`);
}

function redisWhere(clusterNodes: string[] | undefined): string {
  if (privateCluster) return ` (private Redis Cluster, 3 masters + 3 replicas: ${privateCluster.nodesEnv})`;
  if (clusterNodes) return ` (Redis Cluster ${clusterNodes.join(",")})`;
  return env.REDIS_URL ? "" : ` (private redis-server at ${stack!.redisUrl})`;
}

main().catch(async (err) => {
  console.error(`[dev] ${err instanceof Error ? err.message : err}`);
  await shutdown(1);
});
