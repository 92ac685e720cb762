// The README's table of environment variables is the one the schemas generate.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BEGIN, END, envTable } from "../../scripts/env-table.js";

describe("README environment table", () => {
  it("matches edge/env.ts and pool/env.ts (regenerate: npx tsx scripts/env-table.ts --write)", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const a = readme.indexOf(BEGIN);
    const b = readme.indexOf(END);
    expect(a, "README.md has the env-table markers").toBeGreaterThanOrEqual(0);
    expect(readme.slice(a + BEGIN.length, b).trim()).toBe(envTable().trim());
  });

  it("documents every variable", () => {
    for (const line of envTable().split("\n").filter((l) => l.startsWith("| edge") || l.startsWith("| pool"))) {
      expect(line.split("|")[4]?.trim(), line).not.toBe("");
    }
  });
});
