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

/** CPU ms of a process and every process below it (an edge started with EDGE_PROCESSES forks its workers). */
export function treeCpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
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
  let total = 0;
  const walk = (p: number): void => {
    total += procSample(p)?.cpuMs ?? 0;
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return total;
}

/** The gateway's processes by role (edge, pool, redis). */
export type GatewayPids = Record<string, number | undefined>;

/** CPU ms each process spent per 1,000 output tokens, plus their total. */
export type CpuPer1k = Record<string, number> & { total: number };

/** Starts measuring; the returned function gives each process's CPU ms per 1k `tokens` since the start. */
export function cpuMeter(pids: GatewayPids): (tokens: number) => CpuPer1k | undefined {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procSample(pid)?.cpuMs]));
  return (tokens) => {
    if (tokens <= 0) return undefined;
    const out: Record<string, number> = {};
    let total = 0;
    for (const [k, pid] of Object.entries(pids)) {
      const a = procSample(pid)?.cpuMs;
      const b = before[k];
      if (a === undefined || b === undefined) continue;
      out[k] = Math.round(((a - b) / tokens) * 1000 * 10) / 10;
      total += out[k]!;
    }
    return { ...out, total: Math.round(total * 10) / 10 };
  };
}
