// The CLI's agent flags: --family, --tool-call-rate, --parallel-call-rate reach
// the worker (GetModelInfo labels, server_args echo), and bad values exit 2.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { schedulerClient } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = (args: string[]) => ["--import", "tsx", "sim/main.ts", ...args];

it("--family kimi_k2 --tool-call-rate 1 --parallel-call-rate 0.5", async () => {
  const child = spawn(process.execPath, cli(["--family", "kimi_k2", "--tool-call-rate", "1", "--parallel-call-rate", "0.5"]), {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await once(lines, "line", { signal: AbortSignal.timeout(20_000) })) as [string];
    const c = schedulerClient(JSON.parse(line).addresses[0]);
    const info = await c.getModelInfo({});
    expect(info.modelType).toBe("kimi_k2");
    expect(info.architectures).toEqual(["DeepseekV3ForCausalLM"]);
    const args = (await c.getServerInfo({})).serverArgs!;
    expect(args.sim_family).toBe("kimi_k2");
    expect(args.sim_tool_call_rate).toBe(1);
    expect(args.sim_parallel_call_rate).toBe(0.5);
    c.close();
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    expect((await exited)[0]).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

it("rejects an unknown family and an out-of-range rate with exit code 2", () => {
  for (const bad of [["--family", "llama"], ["--tool-call-rate", "1.5"]]) {
    const r = spawnSync(process.execPath, cli(bad), { cwd: root, encoding: "utf8", timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/family|tool-call-rate/);
  }
});
