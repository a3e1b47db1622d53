/**
 * The capture index on disk (`captures/.capture-index`): every stored capture's meta and the
 * verdict of its one full check, each tied to the signature (size, modification time, inode) of
 * the file it was read from.
 *
 * Why it is only a cache, never the truth: at start every entry is compared with the files
 * themselves (one `stat` each); an entry whose file changed, or is gone, is re-read or dropped,
 * and a file the index does not know is read and checked. So an index left stale by a crash
 * between a save and the index write costs a re-read, never a wrong listing or a capture served
 * on an old verdict. Why it exists at all: the verdicts — checking a 5,400-sample file costs
 * ~100 ms, and a thousand of them should be checked once, not at every start.
 *
 * The name does not end in `.json`, so nothing that walks the directory for captures takes it
 * for one.
 */
import { Schema } from "effect"
import { CaptureMeta } from "../../api/Stats.js"

export const INDEX_FILE = ".capture-index"

const Signature = Schema.Struct({
  size: Schema.Number,
  mtime_ms: Schema.Number,
  ino: Schema.Number
})

/** The outcome of the full check of one data file version; absent while it is not yet checked. */
export const CheckVerdict = Schema.Union(
  Schema.Struct({ ok: Schema.Literal(true) }),
  Schema.Struct({ ok: Schema.Literal(false), reason: Schema.String })
)
export type CheckVerdict = typeof CheckVerdict.Type

export const IndexEntry = Schema.Struct({
  meta: CaptureMeta,
  meta_file: Signature,
  data_file: Signature,
  verdict: Schema.optional(CheckVerdict)
})
export type IndexEntry = typeof IndexEntry.Type

export const CaptureIndexFile = Schema.Struct({
  version: Schema.Literal(1),
  entries: Schema.Array(IndexEntry)
})
export type CaptureIndexFile = typeof CaptureIndexFile.Type
