// A small Dockerfile reader for the deploy tests: stages, instructions with their
// flags, ARG defaults, and a few accessors (final stage, instructions by op, exec-form args).
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface Instr {
  op: string;
  args: string;
  flags: Record<string, string>;
}
export interface Stage {
  name: string;
  image: string;
  instrs: Instr[];
}
export interface Dockerfile {
  file: string;
  stages: Stage[];
  args: Record<string, string>;
}

export function parseDockerfile(root: string, file: string): Dockerfile {
  const text = readFileSync(join(root, "deploy", file), "utf8");
  const lines: string[] = [];
  let cur = "";
  for (const raw of text.split("\n")) {
    if (/^\s*#/.test(raw) && cur === "") continue;
    if (raw.endsWith("\\")) cur += raw.slice(0, -1) + " ";
    else {
      cur += raw;
      if (cur.trim()) lines.push(cur.trim());
      cur = "";
    }
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op, rest] = /^(\w+)\s+(.*)$/s.exec(line)!;
    const flags: Record<string, string> = {};
    let argsText = rest;
    for (let m; (m = /^--([\w-]+)=(\S+)\s+/.exec(argsText)); argsText = argsText.slice(m[0].length)) flags[m[1]] = m[2];
    const instr = { op: op.toUpperCase(), args: argsText, flags };
    if (instr.op === "FROM") {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(argsText)!;
      stages.push({ name: name ?? String(stages.length), image: subst(image, args), instrs: [] });
    } else if (stages.length === 0 && instr.op === "ARG") {
      const [k, v] = argsText.split("=");
      args[k] = v ?? "";
    } else stages[stages.length - 1].instrs.push(instr);
  }
  return { file, stages, args };
}

export const subst = (s: string, vars: Record<string, string>) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => vars[a ?? b] ?? "");
export const final = (d: Dockerfile) => d.stages[d.stages.length - 1];
export const ops = (s: Stage, op: string) => s.instrs.filter((i) => i.op === op);
export const jsonArgs = (i: Instr): string[] => JSON.parse(i.args);
