// deploy/k8s and deploy/compose.yaml, checked without a cluster: every object validates
// against the Kubernetes OpenAPI schemas (kubernetes-models), the kustomization lists every
// file, every env var name given to a container is one the code reads, and the wiring the
// issue asks for holds (POOL_ID from the pod name, probes, preStop, PDBs, headless Service).
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { EDGE_ENV_ALIASES, edgeEnvSchema } from "../../edge/env.js";
import { poolEnvSchema } from "../../pool/env.js";

const root = join(import.meta.dirname, "..", "..");
const k8sDir = join(root, "deploy", "k8s");

/** Every variable a deployable reads: the keys of the edge and pool env schemas, plus what deploy/ and sim/ read directly. */
export function knownEnvNames(): Set<string> {
  const names = new Set<string>([...Object.keys(edgeEnvSchema.shape), ...Object.keys(poolEnvSchema.shape), ...Object.keys(EDGE_ENV_ALIASES)]);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [join(dir, e.name)] : [],
    );
  for (const dir of ["sim", "deploy"]) {
    for (const file of walk(join(root, dir))) {
      const src = readFileSync(file, "utf8");
      // process.env.X, or the keys of a small env schema (deploy/seed-demo.ts)
      for (const m of src.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)|^\s+([A-Z][A-Z0-9_]*): z\./gm)) names.add((m[1] ?? m[2])!);
    }
  }
  return names;
}

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: any };

function loadYaml(file: string): any[] {
  const docs = parseAllDocuments(readFileSync(file, "utf8"), { merge: true }); // compose uses <<: anchors
  for (const d of docs) if (d.errors.length > 0) throw new Error(`${relative(root, file)}: ${d.errors.map((e) => e.message).join("; ")}`);
  return docs.map((d) => d.toJS()).filter((o) => o != null);
}

const k8sFiles = readdirSync(k8sDir).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"));
const kustomization = loadYaml(join(k8sDir, "kustomization.yaml"))[0];
const objects: { file: string; obj: K8sObject }[] = k8sFiles
  .filter((f) => f !== "kustomization.yaml")
  .flatMap((f) => loadYaml(join(k8sDir, f)).map((obj) => ({ file: f, obj })));
const compose = loadYaml(join(root, "deploy", "compose.yaml"))[0];

const all = (kind: string) => objects.map((o) => o.obj).filter((o) => o.kind === kind);
const one = (kind: string, name: string): K8sObject => {
  const o = objects.find((x) => x.obj.kind === kind && x.obj.metadata.name === name)?.obj;
  if (!o) throw new Error(`no ${kind} ${name} in deploy/k8s`);
  return o;
};
const configMap = one("ConfigMap", "speedgate-config");
const secret = one("Secret", "speedgate-secrets");
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** kubernetes-models modules per apiVersion (a manifest with another apiVersion fails the test: add it here). */
const MODELS: Record<string, () => Promise<Record<string, unknown>>> = {
  v1: () => import("kubernetes-models/v1"),
  "apps/v1": () => import("kubernetes-models/apps/v1"),
  "autoscaling/v2": () => import("kubernetes-models/autoscaling/v2"),
  "policy/v1": () => import("kubernetes-models/policy/v1"),
};

/** The kubernetes-models class for an object, e.g. apps/v1 Deployment. */
async function modelClass(apiVersion: string, kind: string): Promise<new (o: unknown) => { validate(): void }> {
  const load = MODELS[apiVersion];
  if (!load) throw new Error(`no kubernetes-models module listed for apiVersion ${apiVersion}`);
  const cls = (await load())[kind] as (new (o: unknown) => { validate(): void }) | undefined;
  if (!cls) throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return cls;
}

describe("Kubernetes manifests", () => {
  it("every object validates against the Kubernetes schemas", async () => {
    expect(objects.length).toBeGreaterThanOrEqual(11);
    for (const { file, obj } of objects) {
      const Cls = await modelClass(obj.apiVersion, obj.kind);
      expect(() => new Cls(obj).validate(), `${file}: ${obj.kind} ${obj.metadata?.name}`).not.toThrow();
    }
  });

  it("the validator does catch a broken object (the check above is not vacuous)", async () => {
    const pool = structuredClone(one("Deployment", "speedgate-pool"));
    pool.spec.template.spec.terminationGracePeriodSeconds = "ten minutes";
    const Cls = await modelClass("apps/v1", "Deployment");
    expect(() => new Cls(pool).validate()).toThrow();
    const noSelector = structuredClone(pool);
    delete noSelector.spec.selector;
    expect(() => new Cls(noSelector).validate()).toThrow();
  });

  it("kustomization.yaml lists every manifest file, and only existing ones", () => {
    expect(kustomization).toMatchObject({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization" });
    const listed = [...(kustomization.resources as string[])].sort();
    expect(listed).toEqual(k8sFiles.filter((f) => f !== "kustomization.yaml").sort());
    expect(new Set(listed).size).toBe(listed.length);
  });

  it("every env var name in the manifests and the compose file is one the code reads", () => {
    const known = knownEnvNames();
    // The names the code is known to read (a sanity check on knownEnvNames itself).
    for (const n of ["REDIS_URL", "POOL_ID", "WORKERS", "WORKERS_DNS", "WORKERS_DNS_INTERVAL_MS", "EDGE_PORT", "ADMIN_TOKEN", "POOL_HTTP_PORT", "DEMO_API_KEY"]) expect(known).toContain(n);
    const used: { where: string; name: string }[] = [];
    for (const k of Object.keys(configMap.data)) used.push({ where: "ConfigMap speedgate-config", name: k });
    for (const k of Object.keys(secret.stringData ?? secret.data)) used.push({ where: "Secret speedgate-secrets", name: k });
    for (const d of all("Deployment"))
      for (const c of d.spec.template.spec.containers) for (const e of c.env ?? []) used.push({ where: `Deployment ${d.metadata.name}/${c.name}`, name: e.name });
    for (const [svc, s] of Object.entries<any>(compose.services)) for (const k of Object.keys(s.environment ?? {})) used.push({ where: `compose ${svc}`, name: k });
    expect(used.length).toBeGreaterThan(15);
    expect(used.filter((u) => !known.has(u.name))).toEqual([]);
  });

  it("config comes from the ConfigMap and secrets from the Secret, with keys that exist", () => {
    for (const d of all("Deployment").filter((x) => x.metadata.name.startsWith("speedgate-"))) {
      const c = d.spec.template.spec.containers[0];
      expect(c.envFrom).toEqual([{ configMapRef: { name: "speedgate-config" } }]);
      for (const name of ["REDIS_URL", "ADMIN_TOKEN"]) {
        const e = c.env.find((x: any) => x.name === name);
        expect(e?.valueFrom?.secretKeyRef, `${d.metadata.name} ${name}`).toEqual({ name: "speedgate-secrets", key: name });
        expect(secret.stringData).toHaveProperty(name);
        expect(configMap.data).not.toHaveProperty(name);
      }
    }
    expect(secret.stringData.ADMIN_TOKEN.length).toBeGreaterThanOrEqual(16); // the code refuses shorter ones
  });

  it("the pool: POOL_ID from the pod name, probes on its status port, a preStop drain with time for it", () => {
    const pool = one("Deployment", "speedgate-pool");
    const spec = pool.spec.template.spec;
    const c = spec.containers[0];
    expect(c.env.find((e: any) => e.name === "POOL_ID").valueFrom).toEqual({ fieldRef: { fieldPath: "metadata.name" } });
    const port = c.ports.find((p: any) => p.name === "http");
    expect(String(port.containerPort)).toBe(configMap.data.POOL_HTTP_PORT);
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) expect(c[probe].httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(c.lifecycle.preStop.exec.command.join(" ")).toContain("kill -TERM 1");
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(300);
  });

  it("the edge: /readyz and /healthz probes, preStop, a Service, an HPA on it", () => {
    const edge = one("Deployment", "speedgate-edge");
    const spec = edge.spec.template.spec;
    const c = spec.containers[0];
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(String(c.ports.find((p: any) => p.name === "http").containerPort)).toBe(configMap.data.EDGE_PORT);
    expect(c.lifecycle.preStop).toBeDefined();
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    const svc = one("Service", "speedgate-edge");
    expect(matches(svc.spec.selector, spec.containers && edge.spec.template.metadata.labels)).toBe(true);
    const hpa = one("HorizontalPodAutoscaler", "speedgate-edge");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "speedgate-edge" });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
  });

  it("every Deployment: resource requests, non-root, read-only root filesystem; each speedgate one has a PDB", () => {
    for (const d of all("Deployment")) {
      const spec = d.spec.template.spec;
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), d.metadata.name).toBe(true);
      expect(spec.securityContext.runAsNonRoot, d.metadata.name).toBe(true);
      expect(spec.securityContext.runAsUser).toBe(1000); // the images' USER 1000:1000
      for (const c of spec.containers) {
        expect(c.resources.requests.cpu && c.resources.requests.memory, `${d.metadata.name} requests`).toBeTruthy();
        expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      }
    }
    for (const name of ["speedgate-edge", "speedgate-pool"]) {
      const d = one("Deployment", name);
      const pdbs = all("PodDisruptionBudget").filter((p) => matches(p.spec.selector.matchLabels, d.spec.template.metadata.labels));
      expect(pdbs.length, name).toBe(1);
      expect(pdbs[0].spec.minAvailable).toBeLessThan(d.spec.replicas);
    }
  });

  it("WORKERS_DNS names the headless TokenSpeed Service, which selects the worker pods on their port", () => {
    const [host, port] = configMap.data.WORKERS_DNS.split(":");
    const svc = one("Service", host);
    expect(svc.spec.clusterIP).toBe("None");
    expect(svc.spec.ports.map((p: any) => p.port)).toContain(Number(port));
    const workers = all("Deployment").filter((d) => matches(svc.spec.selector, d.spec.template.metadata.labels));
    expect(workers.map((w) => w.metadata.name)).toEqual(["tokenspeed-sim"]);
    const args: string[] = workers[0].spec.template.spec.containers[0].command;
    expect(args[args.indexOf("--port") + 1]).toBe(port);
    expect(args[args.indexOf("--host") + 1]).toBe("0.0.0.0");
  });
});

describe("compose file", () => {
  it("has edge, pool, Redis, two simulated workers and a seed one-shot, wired together", () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(["edge", "pool", "redis", "seed", "sim"]);
    expect(s.sim.deploy.replicas).toBe(2);
    const [host, port] = s.pool.environment.WORKERS_DNS.split(":");
    expect(host).toBe("sim");
    expect(s.sim.command[s.sim.command.indexOf("--port") + 1]).toBe(port);
    expect(s.edge.depends_on.seed.condition).toBe("service_completed_successfully");
    expect(s.seed.restart).toBe("no");
    expect(s.seed.command).toEqual(["node", "dist/deploy/seed-demo.js"]);
    for (const name of ["edge", "pool", "seed"]) expect(s[name].environment.REDIS_URL).toBe("redis://redis:6379");
    expect(s.redis.image).toMatch(/^redis:7\.\d+\.\d+/);
    for (const name of ["edge", "pool", "sim", "seed"]) expect(s[name].read_only, name).toBe(true);
  });
});
