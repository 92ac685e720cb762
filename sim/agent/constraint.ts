// SamplingParams' `constraint` oneof (regex 17, json_schema 18, ebnf_grammar 19,
// structural_tag 20), compiled once per request. Like a real engine's grammar
// backend, a constraint that does not compile fails the request with
// INVALID_ARGUMENT before any token; compile also dry-runs the generator so
// an unsatisfiable schema is reported the same way instead of mid-stream.
import type { StructuralTag } from "../../contract/structural-tag.js";
import { regexString } from "./regex-gen.js";
import { rngFrom } from "./rng.js";
import { pyJson, schemaValue } from "./schema-value.js";
import { ConstraintError, parseStructuralTag, renderStructural, type StructuralContext } from "./structural.js";

export { ConstraintError };

export type Constraint =
  | { kind: "json_schema"; schema: unknown }
  | { kind: "regex"; pattern: string }
  | { kind: "structural_tag"; tag: StructuralTag };

/** The generated oneof shape (bufbuild): `{ case, value }`. */
export interface ConstraintOneof {
  case: "regex" | "jsonSchema" | "ebnfGrammar" | "structuralTag" | undefined;
  value?: string;
}

export function renderConstraint(c: Constraint, ctx: StructuralContext): string {
  switch (c.kind) {
    case "json_schema":
      return pyJson(schemaValue(c.schema, ctx.rng));
    case "regex":
      return regexString(c.pattern, ctx.rng);
    case "structural_tag":
      return renderStructural(c.tag, ctx);
  }
}

function parse(oneof: ConstraintOneof): Constraint | undefined {
  const src = oneof.value ?? "";
  switch (oneof.case) {
    case undefined:
      return undefined;
    case "ebnfGrammar":
      throw new ConstraintError("ebnf_grammar constraints are not supported by the simulated worker");
    case "regex":
      try {
        new RegExp(src, "u");
      } catch (e) {
        throw new ConstraintError(`invalid regex: ${(e as Error).message}`);
      }
      return { kind: "regex", pattern: src };
    case "jsonSchema": {
      let schema: unknown;
      try {
        schema = JSON.parse(src);
      } catch (e) {
        throw new ConstraintError(`json_schema is not valid JSON: ${(e as Error).message}`);
      }
      if (typeof schema !== "boolean" && (schema === null || typeof schema !== "object" || Array.isArray(schema))) {
        throw new ConstraintError("json_schema must be a JSON object (or boolean) schema");
      }
      return { kind: "json_schema", schema };
    }
    case "structuralTag":
      return { kind: "structural_tag", tag: parseStructuralTag(src) };
  }
}

/** Compiles the constraint; throws ConstraintError (→ INVALID_ARGUMENT) when it cannot be used. */
export function compileConstraint(oneof: ConstraintOneof | undefined): Constraint | undefined {
  if (!oneof) return undefined;
  const c = parse(oneof);
  if (!c) return undefined;
  try {
    const rng = rngFrom(0);
    renderConstraint(c, { rng, wantsCall: true, parallel: true, thinking: () => "" });
  } catch (e) {
    if (e instanceof ConstraintError) throw e;
    throw new ConstraintError(`cannot compile ${c.kind} constraint: ${(e as Error).message}`);
  }
  return c;
}
