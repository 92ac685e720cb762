// The edge's core stays runtime-free: only the two entries (and the Node-only
// adapters under edge/node/ and edge/worker/, used by their entry alone) may import node:*
// or a Node-only package. edge/tsconfig.json checks the same with Workers
// types; this test names the offending file and import.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../..", import.meta.url).pathname;
const EDGE = join(ROOT, "edge");
const RUNTIME_FILES = new Set(["edge/entry-node.ts", "edge/entry-worker.ts"]);
const RUNTIME_DIRS = ["edge/node/", "edge/worker/"];
/** Packages that only run on Node (or need nodejs_compat): values from them belong in an entry. */
const NODE_ONLY = ["@hono/node-server", "prom-client", "pino", "@grpc/grpc-js", "ioredis"];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? tsFiles(join(dir, d.name)) : d.name.endsWith(".ts") && !d.name.endsWith(".d.ts") ? [join(dir, d.name)] : [],
  );
}

/** Every module specifier a file imports at runtime (type-only imports are erased, so they are allowed). */
export function runtimeImports(source: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+["']([^"']+)["']|(?:^|\n)\s*import\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|require\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of source.matchAll(re)) {
    if (m[4] !== undefined) {
      if (m[2]) continue; // import type … from
      out.push(m[4]);
    } else {
      out.push((m[5] ?? m[6] ?? m[7])!);
    }
  }
  return out;
}

const forbidden = (spec: string) => spec.startsWith("node:") || NODE_ONLY.some((p) => spec === p || spec.startsWith(`${p}/`));

describe("edge isolation", () => {
  it("no edge file but the entries imports node:* or a Node-only package", () => {
    const offenders: string[] = [];
    for (const file of tsFiles(EDGE)) {
      const rel = relative(ROOT, file);
      if (RUNTIME_FILES.has(rel) || RUNTIME_DIRS.some((d) => rel.startsWith(d))) continue;
      for (const spec of runtimeImports(readFileSync(file, "utf8"))) if (forbidden(spec)) offenders.push(`${rel}: ${spec}`);
    }
    expect(offenders).toEqual([]);
  });

  it("the check sees value imports and skips type-only ones", () => {
    expect(runtimeImports('import { x } from "node:fs";\nimport type { Redis } from "ioredis";\nimport "pino";')).toEqual(["node:fs", "pino"]);
  });

  it("the entries do import runtime modules (the rule is not vacuous)", () => {
    expect(runtimeImports(readFileSync(join(EDGE, "entry-node.ts"), "utf8")).filter(forbidden).length).toBeGreaterThan(0);
  });
});
