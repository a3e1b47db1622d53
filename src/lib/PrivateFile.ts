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
 * The same write through the host's `DiskOps` (the pairing list, the host's identity): a disk
 * that refuses is a `DiskError` naming the operation and the file, and the fault tests, which
 * swap in a `DiskOps` that fails on purpose, reach these writes too. Whatever step fails, the
 * temp file is removed: the old file stays whole and no half-written one is left beside it.
 * Why the temp file is removed first: a leftover from a crash keeps its old mode, and `open`'s
 * 0600 applies only to a file it creates.
 */
export const writePrivateFile = (disk: DiskOpsService, file: string, data: string): Effect.Effect<void, DiskError> => {
  const dir = path.dirname(file)
  const tmp = `${file}.tmp`
  return disk.mkdirPrivate(dir).pipe(
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

export const writePrivateFileAtomic = async (file: string, data: string): Promise<void> => {
  const dir = path.dirname(file)
  await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  const tmp = `${file}.tmp`
  const handle = await fs.open(tmp, "w", 0o600)
  try {
    await handle.writeFile(data, "utf8")
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.chmod(tmp, 0o600)
  await fs.rename(tmp, file)
  const dirHandle = await fs.open(dir, "r")
  try {
    await dirHandle.sync()
  } finally {
    await dirHandle.close()
  }
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
