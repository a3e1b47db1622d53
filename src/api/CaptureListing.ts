/**
 * The capture listing on the wire: a table — the column names once, then one array of values per
 * capture — that decodes to `CaptureListItem` rows.
 *
 * Why a table and not an array of objects: with 1,000 captures the listing is the one answer a
 * client parses whole on every refresh, and in an array of objects each row repeats its sixteen
 * key names, more than half the bytes. A client's `JSON.parse` of arrays of plain values is about
 * twice as fast as of the same rows as objects, and turning them into objects afterwards costs
 * less than the parser did (`npm run bench -- host-list`: 290 KB of rows took ≈ 2 ms to parse on
 * this project's machine, which put the listing's p50 at the 5 ms target). Clients never see the
 * table: the typed clients decode `CaptureListing` straight to rows, the console and the bench's
 * client use `listingRows`.
 *
 * Why the columns are named in the answer: a newer host may add a column, and a console built
 * before it still finds the ones it knows by name (extra columns are ignored; a missing one is a
 * refusal naming it). `null` is an absent optional field (`breach_count` of a capture saved
 * before breaches were counted); no field of a row is nullable, so it means nothing else.
 */
import { Either, ParseResult, Schema } from "effect"
import type { SchemaAST } from "effect"
import { CaptureListItem } from "./Stats.js"
import { structureGuard } from "./StructureGuard.js"

// A row's fields as the Schema declares them (a plain struct: its AST is one TypeLiteral).
const rowFields = (CaptureListItem.ast as SchemaAST.TypeLiteral).propertySignatures

/** The columns a host sends, in the order of `CaptureListItem`'s fields. */
export const LISTING_COLUMNS: ReadonlyArray<string> = rowFields.map((field) => String(field.name))
/** The columns a listing must have (an optional field's column may be missing from an older host's). */
const REQUIRED_COLUMNS = rowFields.filter((field) => !field.isOptional).map((field) => String(field.name))

/** The table as sent. */
export const CaptureListingTable = Schema.Struct({
  columns: Schema.Array(Schema.String),
  rows: Schema.Array(Schema.Array(Schema.Unknown))
})
export type CaptureListingTable = typeof CaptureListingTable.Type

/** One row's values in `LISTING_COLUMNS` order (an absent optional field is `null`). */
export const tableRowOf = (row: Readonly<Record<string, unknown>>): Array<unknown> => LISTING_COLUMNS.map((name) => row[name] ?? null)

type Column = { readonly name: string; readonly optional: boolean; readonly check: (u: unknown) => boolean }
const COLUMNS: ReadonlyArray<Column> = rowFields.map((field) => ({
  name: String(field.name),
  optional: field.isOptional,
  check: structureGuard(Schema.make(field.type))
}))
const anything = () => true

/**
 * The rows of a table as plain objects, or what is wrong with it (a column missing, a row of the
 * wrong length, a value of the wrong shape when `checkValues`). One pass over the cells: the
 * console's check of 1,000 rows is part of every listing it reads, and checking each value as
 * its row is built costs less than building the rows and walking them again.
 */
export const objectsOfTable = (
  table: { readonly columns: ReadonlyArray<unknown>; readonly rows: ReadonlyArray<unknown> },
  checkValues = false
): Either.Either<Array<Record<string, unknown>>, string> => {
  const at = new Map(table.columns.map((name, i) => [name, i]))
  const known: Array<readonly [Column, number]> = []
  for (const column of COLUMNS) {
    const i = at.get(column.name)
    if (i === undefined) {
      if (!column.optional) return Either.left(`the listing has no column "${column.name}"`)
    } else known.push([checkValues ? column : { ...column, check: anything }, i])
  }
  const width = table.columns.length
  const objects: Array<Record<string, unknown>> = new Array(table.rows.length)
  for (let r = 0; r < table.rows.length; r++) {
    const values = table.rows[r]
    if (!Array.isArray(values) || values.length !== width) return Either.left(`listing row ${r} is not ${width} values`)
    const object: Record<string, unknown> = {}
    for (const [column, i] of known) {
      const value: unknown = values[i]
      if (value === null && column.optional) continue
      if (!column.check(value)) return Either.left(`listing row ${r}: "${column.name}" has the wrong shape`)
      object[column.name] = value
    }
    objects[r] = object
  }
  return Either.right(objects)
}

/** `GET /stats/recordings`: the table on the wire, `CaptureListItem` rows once decoded. */
export const CaptureListing = Schema.transformOrFail(CaptureListingTable, Schema.Array(CaptureListItem), {
  strict: false,
  decode: (table, _, ast) =>
    Either.match(objectsOfTable(table), {
      onLeft: (message) => ParseResult.fail(new ParseResult.Type(ast, table, message)),
      onRight: (objects) => ParseResult.succeed(objects)
    }),
  encode: (rows) => ParseResult.succeed({ columns: LISTING_COLUMNS, rows: rows.map((row) => tableRowOf(row as Record<string, unknown>)) })
})

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * The rows of a parsed listing, checked for shape without a full Schema decode (the console's
 * and the listing bench's client; the host encoded them with the Schema), or `undefined` when
 * the body is not a listing — the caller then decodes with `CaptureListing` to say why.
 */
export const listingRows = (body: unknown): ReadonlyArray<CaptureListItem> | undefined => {
  if (!isRecord(body) || !Array.isArray(body["columns"]) || !Array.isArray(body["rows"])) return undefined
  const objects = objectsOfTable({ columns: body["columns"], rows: body["rows"] }, true)
  // Every value passed its column's structure check, every required column is there.
  return Either.isLeft(objects) ? undefined : (objects.right as unknown as ReadonlyArray<CaptureListItem>)
}
