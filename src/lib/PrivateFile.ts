/**
 * Small private files (token, keys, pairings): written `0600` inside a `0700` directory, through
 * a temp file, fsync and rename, so a crash leaves either the old file or the new one — never a
 * half-written key or an empty pairing list that would unpair every client.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"

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
