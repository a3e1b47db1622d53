/**
 * Small private files (token, keys, pairings): written `0600` inside a `0700` directory, through
 * a temp file, fsync and rename, so a crash leaves either the old file or the new one — never a
 * half-written key or an empty pairing list that would unpair every client.
 */
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { DiskError, DiskOpsService } from "../services/DiskOps.js"

/**
 * The write, through a `DiskOps` (the host's for the pairing list, both identities and the token;
 * the plain one for the client's pinned hosts): a disk
 * that refuses is a `DiskError` naming the operation and the file, and the fault tests, which
 * swap in a `DiskOps` that fails on purpose, reach these writes too. Whatever step fails, the
 * temp file is removed: the old file stays whole and no half-written one is left beside it.
 * Why the temp file is removed first: a leftover from a crash keeps its old mode, and `open`'s
 * 0600 applies only to a file it creates.
 */
export const writePrivateFile = (
  disk: DiskOpsService,
  file: string,
  data: string,
  options: { readonly dirIsOurs?: boolean } = {}
): Effect.Effect<void, DiskError> => {
  const dir = path.dirname(file)
  const tmp = `${file}.tmp`
  // A directory that is not the host's own (the token file may be put anywhere, /etc/… or a
  // secrets mount) is made 0700 only if it is missing; one that exists keeps its mode, which is
  // the operator's: closing /tmp or /etc to everyone else would break the machine.
  const ensureDir =
    options.dirIsOurs === false
      ? disk.stat(dir).pipe(
          Effect.asVoid,
          Effect.catchIf((e) => e.code === "ENOENT", () => disk.mkdirPrivate(dir))
        )
      : disk.mkdirPrivate(dir)
  return ensureDir.pipe(
    Effect.zipRight(disk.remove(tmp)),
    Effect.zipRight(
      disk.writeDurable(tmp, data).pipe(
        Effect.zipRight(disk.rename(tmp, file)),
        Effect.tapError(() => disk.remove(tmp).pipe(Effect.ignore))
      )
    ),
    Effect.zipRight(disk.syncDir(dir))
  )
}

/** The file's text, or `undefined` when it does not exist (any other error is thrown). */
export const readIfExists = async (file: string): Promise<string | undefined> => {
  try {
    return await fs.readFile(file, "utf8")
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw e
  }
}
