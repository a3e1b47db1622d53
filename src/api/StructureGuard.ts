/**
 * A structure check compiled from a Schema: objects have their fields, arrays are arrays, numbers
 * are numbers, strings are strings, literals are one of their values — without building a decoded
 * copy or running the refinements (finite, non-negative, integer).
 *
 * Why not a full Schema decode of a capture: the host checks every stored capture with the full
 * Schemas once (when it saves or indexes the file) and serves only bytes that passed; decoding
 * 5,400 samples again in the page cost ~150 ms of the time to open one. What the console still
 * must not do is draw from a body of the wrong shape (an older host, a proxy's error page), so it
 * checks the shape, which takes a few milliseconds. Why derived from the Schema and not written
 * by hand: a field added to the Schema is checked without anyone remembering to.
 *
 * Here in `src/api` (not in the console's sources) because the listing bench checks the rows as
 * the console does, so its client costs what the console's costs.
 */
import type { Schema } from "effect"
import { SchemaAST } from "effect"

type Check = (u: unknown) => boolean

const isRecord = (u: unknown): u is Record<PropertyKey, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const compile = (ast: SchemaAST.AST): Check => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "UndefinedKeyword":
      return (u) => u === undefined
    // Values a Schema leaves open (the listing table's cells, checked by the rows' guard after).
    case "UnknownKeyword":
      return () => true
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal
    }
    case "Refinement":
      return compile(ast.from)
    case "Transformation":
      return compile(ast.from)
    case "Union": {
      if (ast.types.every((t) => t._tag === "Literal")) {
        const allowed = new Set(ast.types.map((t) => (t._tag === "Literal" ? t.literal : undefined)))
        return (u) => allowed.has(u as SchemaAST.LiteralValue)
      }
      const members = ast.types.map(compile)
      return (u) => members.some((m) => m(u))
    }
    case "TupleType": {
      if (ast.elements.length > 0 || ast.rest.length !== 1) throw new Error(`structure check: only plain arrays are supported, not ${String(ast)}`)
      const rest = ast.rest[0]
      const item = rest === undefined ? () => true : compile(rest.type)
      return (u) => {
        if (!Array.isArray(u)) return false
        for (const x of u) if (!item(x)) return false
        return true
      }
    }
    case "TypeLiteral": {
      const fields = ast.propertySignatures.map((p) => ({ name: p.name, optional: p.isOptional, check: compile(p.type) }))
      return (u) => {
        if (!isRecord(u)) return false
        for (const f of fields) {
          const v = u[f.name]
          if (v === undefined ? !f.optional : !f.check(v)) return false
        }
        return true
      }
    }
    default:
      throw new Error(`structure check: no rule for ${ast._tag} (${String(ast)})`)
  }
}

/** A guard for `schema`'s encoded shape; for Schemas without transformations that is its type. */
export const structureGuard = <A, I>(schema: Schema.Schema<A, I>): ((u: unknown) => u is A) => {
  const check = compile(SchemaAST.encodedAST(schema.ast))
  return (u: unknown): u is A => check(u)
}
