// Process CPU time and memory from Linux /proc, for the gateway-cost figures every
// scenario reports (CPU time is what the gateway burns whatever else the machine does,
// so it is steadier than wall-clock figures on a shared machine).
import { readdirSync, readFileSync } from "node:fs";

/** utime + stime of a process in ms, and its RSS in MB; undefined when it is gone or /proc is missing. */
export function procSample(pid: number | undefined): { cpuMs: number; rssMb: number } | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(f[11]) + Number(f[12]);
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return { cpuMs: (ticks * 1000) / 100, rssMb: rss ? Number(rss[1]) / 1024 : NaN };
  } catch {
    return undefined;
  }
}

/** Every process's children, read from /proc now. */
function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone meanwhile */
    }
  }
  return children;
}

/** `pid` and every process below it. */
function processTree(pid: number): number[] {
  const children = childrenByParent();
  const out: number[] = [];
  const walk = (p: number): void => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** CPU ms of a process and every process below it (an edge started with EDGE_PROCESSES forks its workers). */
export function treeCpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  return processTree(pid).reduce((total, p) => total + (procSample(p)?.cpuMs ?? 0), 0);
}

/** The first process below `pid` (or `pid` itself) whose command name is `name` (e.g. workerd under wrangler dev). */
export function descendantNamed(pid: number | undefined, name: string): number | undefined {
  if (!pid) return undefined;
  return processTree(pid).find((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, "utf8").trim() === name;
    } catch {
      return false;
    }
  });
}

/** The gateway's processes by role (edge, pool, redis); a role may be several processes (a Redis Cluster's nodes). */
export type GatewayPids = Record<string, number | readonly number[] | undefined>;

/** CPU ms each process spent per 1,000 output tokens, plus their total. */
export type CpuPer1k = Record<string, number> & { total: number };

/** CPU ms of a role's processes; undefined when one of them cannot be read. */
function roleCpuMs(pids: number | readonly number[] | undefined): number | undefined {
  const list = typeof pids === "number" ? [pids] : (pids ?? []);
  if (list.length === 0) return undefined;
  let total = 0;
  for (const pid of list) {
    const ms = procSample(pid)?.cpuMs;
    if (ms === undefined) return undefined;
    total += ms;
  }
  return total;
}

/** Starts measuring; the returned function gives each role's CPU ms since the start. */
export function cpuSpent(pids: GatewayPids): () => Record<string, number> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, roleCpuMs(p)]));
  return () => {
    const out: Record<string, number> = {};
    for (const [k, p] of Object.entries(pids)) {
      const a = roleCpuMs(p);
      const b = before[k];
      if (a !== undefined && b !== undefined) out[k] = a - b;
    }
    return out;
  };
}

/** CPU ms per 1,000 `tokens` of each role in `spent` (from cpuSpent), and their total. */
export function per1k(spent: Record<string, number>, tokens: number): CpuPer1k | undefined {
  if (tokens <= 0) return undefined;
  const out: Record<string, number> = {};
  let total = 0;
  for (const [k, ms] of Object.entries(spent)) {
    out[k] = Math.round((ms / tokens) * 1000 * 10) / 10;
    total += out[k]!;
  }
  return { ...out, total: Math.round(total * 10) / 10 };
}

/** Starts measuring; the returned function gives each role's CPU ms per 1k `tokens` since the start. */
export function cpuMeter(pids: GatewayPids): (tokens: number) => CpuPer1k | undefined {
  const spent = cpuSpent(pids);
  return (tokens) => per1k(spent(), tokens);
}

/** "total (edge + pool + redis)", the way every table shows a CpuPer1k. */
export function cpuSplit(cpu: CpuPer1k | undefined): string {
  return cpu ? `${cpu.total} (${cpu.edge ?? "?"} + ${cpu.pool ?? "?"} + ${cpu.redis ?? "?"})` : "n/a";
}
