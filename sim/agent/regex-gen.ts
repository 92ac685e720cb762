// Strings matching a regex (regex constraints, string `pattern` in schemas),
// via randexp driven by our deterministic Rng. Loaded with require: randexp is
// CommonJS (`module.exports = RandExp`) and its typings declare an ES default
// export, which NodeNext resolution does not see as constructable.
import { createRequire } from "node:module";
import type { Rng } from "./rng.js";

interface RandExpInstance {
  max: number;
  randInt(a: number, b: number): number;
  gen(): string;
}
const RandExp = createRequire(import.meta.url)("randexp") as new (re: string | RegExp) => RandExpInstance;

/** A string matching `pattern`; unbounded repetitions (* + {n,}) are capped at `max`. */
export function regexString(pattern: string, rng: Rng, max = 6): string {
  const r = new RandExp(pattern);
  r.max = max;
  r.randInt = (a: number, b: number) => rng.int(a, b);
  return r.gen();
}
