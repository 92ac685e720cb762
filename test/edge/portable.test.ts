// createApp must run unchanged in workerd: nothing reachable from edge/app.ts
// may import a Node builtin or the Node server adapter. Checked statically by
// following the relative imports.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

it("edge/app.ts and everything it imports are free of runtime-specific imports", () => {
  const seen = new Set<string>();
  const bad: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, "utf8");
    for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm)) {
      const spec = m[1]!;
      const typeOnly = /^\s*(?:import|export)\s+type\s/.test(m[0]);
      if (spec.startsWith(".")) visit(join(dirname(file), spec.replace(/\.js$/, ".ts")));
      else if (!typeOnly && (spec.startsWith("node:") || spec.startsWith("@hono/node-server") || spec === "pino")) bad.push(`${file}: ${spec}`);
    }
  };
  visit(join(root, "edge/app.ts"));
  expect(seen.size).toBeGreaterThan(10);
  expect(bad).toEqual([]);
});
