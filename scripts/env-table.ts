// Prints the Markdown table of every environment variable of every deployable,
// generated from their zod schemas (edge/env.ts, pool/env.ts). The README holds
// the same table between the env-table markers; test/env/readme.test.ts fails
// when they differ. `npx tsx scripts/env-table.ts --write` updates the README.
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { envRows } from "../contract/env.js";
import { EDGE_ENV_ALIASES, edgeEnvSchema } from "../edge/env.js";
import { poolEnvSchema } from "../pool/env.js";

export const BEGIN = "<!-- env-table:begin -->";
export const END = "<!-- env-table:end -->";

const cell = (s: string) => s.replace(/\|/g, "\\|");

export function envTable(): string {
  const rows = [...envRows("edge", edgeEnvSchema), ...envRows("pool", poolEnvSchema)];
  const lines = [
    "| Deployable | Variable | Default | Description |",
    "| --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.deployable} | \`${r.name}\` | ${r.default === "" ? "" : `\`${cell(r.default)}\``} | ${cell(r.description)} |`),
  ];
  const aliases = Object.entries(EDGE_ENV_ALIASES)
    .map(([old, name]) => `\`${old}\` → \`${name}\``)
    .join(", ");
  return `${lines.join("\n")}\n\nDeprecated (read for one more release, with a warning): ${aliases}.`;
}

/** The README with its env table replaced by `table`. */
export function withTable(readme: string, table: string): string {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error("README.md lacks the env-table markers");
  return `${readme.slice(0, a + BEGIN.length)}\n${table}\n${readme.slice(b)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--write")) {
    const path = new URL("../README.md", import.meta.url);
    writeFileSync(path, withTable(readFileSync(path, "utf8"), envTable()));
  } else {
    console.log(envTable());
  }
}
