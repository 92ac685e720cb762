// Lowers the CPU priority of the calling thread, for threads that do one client's bulk
// work (checking a 1 MB body, tokenizing a long prompt) next to an event loop that
// serves every tenant. When the cores are busy the scheduler then gives that loop the
// CPU first, so a tenant sending large requests slows its own requests, not everyone's;
// on idle cores the thread runs at full speed. Linux only (a thread's id comes from
// /proc/thread-self, and setpriority on a thread id applies to that thread alone);
// elsewhere the thread keeps its priority.
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * The nice value of such threads: under contention a nice-10 thread gets about a tenth
 * of the CPU a nice-0 thread gets (CFS weights 110 vs 1024), so it still progresses.
 */
export const BULK_WORK_NICE = 10;

/** The calling thread's kernel id, or undefined off Linux. */
export function currentThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** Gives the calling thread nice `nice`; false when the platform cannot. */
export function lowerThisThreadPriority(nice = BULK_WORK_NICE): boolean {
  const tid = currentThreadId();
  if (tid === undefined) return false;
  try {
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
