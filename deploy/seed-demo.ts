// One-shot for the compose stack: seeds the demo tenant and its API key, as `npm run dev`
// does (scripts/dev.ts), then exits. Idempotent: re-running rewrites the same records.
//   REDIS_URL            where the edge and the pool meet (one Redis), or
//   REDIS_CLUSTER_NODES  host:port seeds of a Redis Cluster (REDIS_PASSWORD for both)
//   DEMO_API_KEY         the key to create (the compose file sets one; clients send it as Bearer)
import { z } from "zod";
import { envHostPorts } from "../contract/env.js";
import { connectRedis } from "../contract/node/redis-connect.js";
import { seedApiKey } from "../edge/tenants.js";

const Env = z
  .object({
    REDIS_URL: z.string().url().optional(),
    REDIS_CLUSTER_NODES: envHostPorts().optional(),
    REDIS_PASSWORD: z.string().optional(),
    DEMO_API_KEY: z.string().min(8),
  })
  .refine((e) => e.REDIS_URL || e.REDIS_CLUSTER_NODES, { message: "set REDIS_URL or REDIS_CLUSTER_NODES", path: ["REDIS_URL"] });

const parsed = Env.safeParse(process.env);
if (!parsed.success) {
  console.error("seed-demo: bad environment:\n" + z.prettifyError(parsed.error));
  process.exit(2);
}
const env = parsed.data;
const redis = connectRedis({ url: env.REDIS_URL, clusterNodes: env.REDIS_CLUSTER_NODES, password: env.REDIS_PASSWORD }, { maxRetriesPerRequest: 20 });
try {
  const { tenant, record } = await seedApiKey(redis, { tenantId: "demo", tenantName: "Demo tenant", key: env.DEMO_API_KEY });
  console.log(JSON.stringify({ seeded: true, tenant: tenant.id, key_id: record.key_id }));
} finally {
  redis.disconnect();
}
