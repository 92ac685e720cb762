// Threads doing one client's bulk work run at a lower CPU priority than the event loops
// serving every tenant (contract/node/thread-priority.ts): the edge's body-check threads
// and the pool's tokenization threads, as started in production, with their kernel
// nice values read from /proc.
import { readdirSync, readFileSync } from "node:fs";
import { afterEach, expect, it } from "vitest";
import { ThreadBodyChecker } from "../../edge/node/body-check.js";
import { PromptThreads } from "../../pool/tokenizer/prompt-threads.js";
import { BULK_WORK_NICE, currentThreadId } from "../../contract/node/thread-priority.js";
import { loadRealModelTokenizer } from "../helpers/real-tokenizer.js";

/** nice value of each of this process's threads, by thread id (field 19 of /proc/<pid>/task/<tid>/stat) */
function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]));
    } catch {} // a thread that ended meanwhile
  }
  return out;
}
const lowered = () => [...threadNices().values()].filter((n) => n === BULK_WORK_NICE).length;

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

it("the edge's body-check threads and the pool's tokenization threads run at nice 10, and nothing else does", async () => {
  const before = lowered();
  const checker = new ThreadBodyChecker(2, 1);
  closers.push(() => checker.close());
  await checker.warm();
  expect(lowered()).toBe(before + 2);

  const tok = loadRealModelTokenizer();
  const threads = PromptThreads.create(tok.files, tok.extraEosIds, tok.boundsData, 2);
  closers.push(() => threads.close());
  await threads.ready();
  expect(lowered()).toBe(before + 4);

  // the thread that started them keeps its priority
  const self = currentThreadId();
  expect(self).toBeDefined();
  expect(threadNices().get(self!)).toBe(0);
});
