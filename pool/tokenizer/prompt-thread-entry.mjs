// Worker-thread entry: registers tsx (the pool runs from TypeScript sources, and
// vitest's workers do not pass a loader on) and loads the thread's module.
import { register } from "tsx/esm/api";
register();
await import("./prompt-thread.ts");
