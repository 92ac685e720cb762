// The pool's live status page in a real headless Chromium: redis + 2
// simulated workers + a pool (2 requests at a time, so work queues up in
// Redis), some traffic from two tenants; the page must show both workers and
// the tenant queues, update on its own as the queues drain, and render a
// non-blank screenshot of the expected size.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { chromium, type Browser, type Page } from "playwright-core";
import { startPool, type PoolHandle } from "../../pool/main.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { enqueue, makeJob, settled } from "../pool/helpers.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ADMIN = "status-admin-token-0123456789";
const VIEWPORT = { width: 1280, height: 900 };

// Debian's Chromium is a test prerequisite like redis-server (README; .ci/run installs both).
if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);

describe("pool status page (headless Chromium)", () => {
  let redis: RedisServer;
  let sims: SimWorker[];
  let pool: PoolHandle;
  let r: Redis;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    redis = await startRedis();
    // Slow enough decode that the queue is visibly non-empty for a few page polls.
    sims = await Promise.all([0, 1].map(() => startSimWorker({ port: 0, decodeMsPerToken: 8, decodeMsPerRunning: 0 })));
    pool = await startPool({
      redisUrl: redis.url,
      workers: sims.map((s) => s.address),
      maxInFlight: 2,
      httpPort: 0,
      httpHost: "127.0.0.1",
      adminToken: ADMIN,
      loadsIntervalMs: 250,
      logLevel: "silent",
    });
    pool.events.setMaxListeners(100); // one "settled" waiter per job below
    r = redis.client();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: VIEWPORT });
  });

  afterAll(async () => {
    await browser?.close();
    await pool?.stop();
    await Promise.all((sims ?? []).map((s) => s.stop(0)));
    await redis?.stop();
  });

  const queued = (tenant: string) =>
    page.evaluate((sel) => {
      const cell = document.querySelector(sel);
      return cell ? Number(cell.textContent) : null;
    }, `tr[data-queue="qwen3-sim/${tenant}"] [data-field="queued"]`);

  it("shows both workers, the tenant queues live, and renders a non-blank screenshot", async () => {
    // Without the token the page is refused.
    expect((await page.goto(pool.httpUrl + "/status"))!.status()).toBe(401);
    expect((await page.goto(`${pool.httpUrl}/status?token=${ADMIN}`))!.status()).toBe(200);

    // Both workers, ready.
    for (const s of sims) {
      await page.waitForSelector(`tr[data-worker="${s.address}"][data-state="ready"]`, { timeout: 10_000 });
    }
    expect(await page.textContent("#pool-id")).toBe(pool.poolId);

    // Traffic: 12 jobs for alpha, 6 for beta, 2 run at a time.
    const jobs = [
      ...Array.from({ length: 12 }, (_, i) => makeJob({ tenant_id: "alpha", prompt: `alpha ${i}`, sampling: { max_tokens: 24 } })),
      ...Array.from({ length: 6 }, (_, i) => makeJob({ tenant_id: "beta", prompt: `beta ${i}`, sampling: { max_tokens: 24 } })),
    ];
    const done = Promise.all(jobs.map((j) => settled(pool, j.id)));
    for (const j of jobs) await enqueue(r, j);

    // The page picks the queues up on its own (it polls), for both tenants...
    await page.waitForFunction(
      () => {
        const q = (t: string) => document.querySelector(`tr[data-queue="qwen3-sim/${t}"] [data-field="queued"]`);
        return Number(q("alpha")?.textContent) > 0 && q("beta") !== null;
      },
      undefined,
      { timeout: 10_000, polling: 50 },
    );
    const first = (await queued("alpha"))!;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(12);
    const pollsBefore = Number(await page.getAttribute("body", "data-polls"));

    // ...and keeps updating: alpha's queued count changes as the pool drains it.
    await page.waitForFunction(
      (n) => {
        const cell = document.querySelector(`tr[data-queue="qwen3-sim/alpha"] [data-field="queued"]`);
        return cell === null || Number(cell.textContent) !== n;
      },
      first,
      { timeout: 20_000, polling: 50 },
    );
    expect(Number(await page.getAttribute("body", "data-polls"))).toBeGreaterThan(pollsBefore);

    // Work is visible while it runs: in flight and tokens per second on the cards.
    await page.waitForFunction(() => Number(document.getElementById("tps")?.textContent) > 0, undefined, { timeout: 10_000, polling: 50 });

    // Screenshot mid-traffic.
    const dir = mkdtempSync(join(tmpdir(), "sg-status-"));
    const file = join(dir, "status-page.png");
    await page.screenshot({ path: file, fullPage: false });
    const png = readFileSync(file);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    // IHDR: width and height (big-endian) at bytes 16..23.
    expect(png.readUInt32BE(16)).toBe(VIEWPORT.width);
    expect(png.readUInt32BE(20)).toBe(VIEWPORT.height);
    // Non-blank: decode it in the browser and count distinct colours on a grid.
    const check = await browser.newPage();
    const colours = await check.evaluate(async (src) => {
      const img = new Image();
      img.src = src;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext("2d")!;
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let y = 0; y < c.height; y += 3) for (let x = 0; x < c.width; x += 3) {
        const i = (y * c.width + x) * 4;
        seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      }
      return seen.size;
    }, `data:image/png;base64,${png.toString("base64")}`);
    await check.close();
    expect(colours).toBeGreaterThan(20);
    console.log(`status page screenshot: ${file} (${png.length} bytes, ${colours} colours)`);

    // Everything drains: the queue rows go (nothing queued or running) and the counters add up.
    await done;
    await page.waitForFunction(
      () => document.querySelector("tr[data-queue]") === null && document.getElementById("queued-total")?.textContent === "0",
      undefined,
      { timeout: 10_000, polling: 50 },
    );
    const outcomes = await page.textContent("#outcomes");
    expect(outcomes).toBe(`${jobs.length} / 0 / 0`);
  });
});
