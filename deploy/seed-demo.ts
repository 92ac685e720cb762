// One-shot for the compose stack: seeds the demo tenant and its API key, as `npm run dev`
// does (scripts/dev.ts), then exits. Idempotent: re-running rewrites the same records.
//   REDIS_URL     where the edge and the pool meet
//   DEMO_API_KEY  the key to create (the compose file sets one; clients send it as Bearer)
import { Redis } from "ioredis";
import { z } from "zod";
import { seedApiKey } from "../edge/tenants.js";

const Env = z.object({
  REDIS_URL: z.string().url(),
  DEMO_API_KEY: z.string().min(8),
});

const parsed = Env.safeParse(process.env);
if (!parsed.success) {
  console.error("seed-demo: bad environment:\n" + z.prettifyError(parsed.error));
  process.exit(2);
}
const env = parsed.data;
const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 20 });
try {
  const { tenant, record } = await seedApiKey(redis, { tenantId: "demo", tenantName: "Demo tenant", key: env.DEMO_API_KEY });
  console.log(JSON.stringify({ seeded: true, tenant: tenant.id, key_id: record.key_id }));
} finally {
  redis.disconnect();
}
