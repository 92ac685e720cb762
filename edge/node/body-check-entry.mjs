// Worker-thread entry: registers tsx (the edge runs from TypeScript sources, and
// vitest's workers do not pass a loader on) and hands piscina the thread's task.
import { register } from "tsx/esm/api";
register();
const thread = await import("./body-check-thread.ts");
export default thread.default;
