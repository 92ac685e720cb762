import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "edge/**/*.test.ts", "pool/**/*.test.ts", "contract/**/*.test.ts", "sim/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests spawn servers; two cores: keep files modestly parallel.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
