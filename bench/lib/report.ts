// Writes a benchmark run as JSON and as a Markdown table under bench/results/.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
}

export function toMarkdown(tables: Table[]): string {
  return tables
    .map((t) => {
      const head = `| ${t.columns.join(" | ")} |\n| ${t.columns.map(() => "---").join(" | ")} |`;
      const body = t.rows.map((r) => `| ${r.join(" | ")} |`).join("\n");
      const notes = (t.notes ?? []).map((n) => `\n${n}`).join("");
      return `### ${t.title}\n\n${head}\n${body}\n${notes}`;
    })
    .join("\n\n");
}

/** bench/results/, created on demand. */
export function resultsDir(): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "results");
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function writeResults(name: string, data: unknown, tables: Table[]): { json: string; md: string } {
  const dir = resultsDir();
  const json = join(dir, `${name}.json`);
  const md = join(dir, `${name}.md`);
  writeFileSync(json, JSON.stringify(data, null, 2) + "\n");
  writeFileSync(md, `# Benchmark: ${name}\n\n${toMarkdown(tables)}\n`);
  return { json, md };
}
