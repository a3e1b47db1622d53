/**
 * The few file-system operations the capture store needs, behind one interface.
 *
 * Why an interface and not `node:fs` directly: "the disk refused" must be testable even when the
 * tests run as root (a 0500 directory does not refuse root), so tests swap in a `DiskOps` that
 * fails on purpose. The real one writes durably: temp file, fsync, rename, fsync of the directory.
 */
import { Context, Data, Effect, Layer } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"

export class DiskError extends Data.TaggedError("DiskError")<{
  readonly op: string
  readonly path: string
  readonly code: string
  readonly message: string
}> {}

const REASONS: Record<string, string> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is exhausted",
  EFBIG: "the file is larger than allowed",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOENT: "no such file or directory",
  ENOTDIR: "a path component is not a directory",
  EISDIR: "is a directory",
  EIO: "an I/O error"
}

export const toDiskError = (op: string, file: string, cause: unknown): DiskError => {
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : "EUNKNOWN"
  const reason = REASONS[code] ?? (cause instanceof Error ? cause.message : String(cause))
  return new DiskError({ op, path: file, code, message: `${op} ${file}: ${reason} (${code})` })
}

/**
 * What identifies one version of a file without reading it: a save renames a new file (a new
 * inode) into place, and any other write changes the size or the modification time. The capture
 * index keeps a file's check verdict against this, so a verdict never outlives the bytes it judged.
 */
export interface FileSignature {
  readonly size: number
  readonly mtime_ms: number
  readonly ino: number
}

export const sameFile = (a: FileSignature | undefined, b: FileSignature | undefined): boolean =>
  a !== undefined && b !== undefined && a.size === b.size && a.mtime_ms === b.mtime_ms && a.ino === b.ino

const signatureOf = (stat: { size: number; mtimeMs: number; ino: number }): FileSignature => ({
  size: stat.size,
  mtime_ms: stat.mtimeMs,
  ino: stat.ino
})

export interface DiskOpsService {
  readonly mkdirPrivate: (dir: string) => Effect.Effect<void, DiskError>
  /** Write `data` to `file` and fsync it (the caller renames it into place). */
  readonly writeDurable: (file: string, data: string) => Effect.Effect<void, DiskError>
  readonly rename: (from: string, to: string) => Effect.Effect<void, DiskError>
  readonly syncDir: (dir: string) => Effect.Effect<void, DiskError>
  readonly readText: (file: string) => Effect.Effect<string, DiskError>
  readonly stat: (file: string) => Effect.Effect<FileSignature, DiskError>
  /**
   * The whole file and the signature of the very file those bytes came from (taken from the open
   * handle, so a rename between stat and read cannot pair new bytes with an old signature).
   */
  readonly readWithSignature: (
    file: string
  ) => Effect.Effect<{ readonly bytes: Uint8Array; readonly signature: FileSignature }, DiskError>
  readonly list: (dir: string) => Effect.Effect<ReadonlyArray<string>, DiskError>
  readonly remove: (file: string) => Effect.Effect<void, DiskError>
  readonly exists: (file: string) => Effect.Effect<boolean>
  /** Append one line and make it durable before returning (the journal's promise). */
  readonly appendDurable: (file: string, line: string) => Effect.Effect<void, DiskError>
}

export class DiskOps extends Context.Tag("punktfunk/DiskOps")<DiskOps, DiskOpsService>() {}

const attempt = <A>(op: string, file: string, f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: (cause) => toDiskError(op, file, cause) })

export const nodeDiskOps: DiskOpsService = {
  mkdirPrivate: (dir) =>
    attempt("create directory", dir, async () => {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 })
      await fs.chmod(dir, 0o700)
    }),
  writeDurable: (file, data) =>
    attempt("write", file, async () => {
      const handle = await fs.open(file, "w", 0o600)
      try {
        await handle.writeFile(data, "utf8")
        await handle.sync()
      } finally {
        await handle.close()
      }
    }),
  rename: (from, to) => attempt("rename", `${from} -> ${to}`, () => fs.rename(from, to)),
  syncDir: (dir) =>
    attempt("sync directory", dir, async () => {
      const handle = await fs.open(dir, "r")
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
    }),
  readText: (file) => attempt("read", file, () => fs.readFile(file, "utf8")),
  stat: (file) => attempt("stat", file, async () => signatureOf(await fs.stat(file))),
  readWithSignature: (file) =>
    attempt("read", file, async () => {
      const handle = await fs.open(file, "r")
      try {
        const signature = signatureOf(await handle.stat())
        const bytes = await handle.readFile()
        return { bytes, signature }
      } finally {
        await handle.close()
      }
    }),
  list: (dir) => attempt("list", dir, () => fs.readdir(dir)),
  remove: (file) => attempt("remove", file, () => fs.rm(file, { force: true })),
  exists: (file) =>
    Effect.promise(() =>
      fs.access(file).then(
        () => true,
        () => false
      )
    ),
  appendDurable: (file, line) =>
    attempt("append", file, async () => {
      const handle = await fs.open(file, "a", 0o600)
      try {
        await handle.appendFile(line, "utf8")
        await handle.datasync()
      } finally {
        await handle.close()
      }
    })
}

export const DiskOpsLive: Layer.Layer<DiskOps> = Layer.succeed(DiskOps, nodeDiskOps)

export const joinInside = (dir: string, name: string): string => {
  // Defence in depth: callers pass checked ids, and the joined path must still be inside `dir`.
  const full = path.join(dir, name)
  if (path.dirname(full) !== path.resolve(dir)) throw new Error(`refusing path outside ${dir}: ${name}`)
  return full
}
