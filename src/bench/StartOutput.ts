/**
 * Reading what a spawned host prints at start, for the benches and the test helpers: the URL it
 * listens on, and the token — read from the token file the host names, because the host prints
 * the token itself only on the start that generated it (stdout ends up in journald and CI logs).
 *
 * Each pattern wants the whole line (up to its newline): a chunk of stdout may end mid-line, and
 * a path may hold spaces.
 */
import * as fs from "node:fs"

export const urlFromStartOutput = (out: string): string | undefined =>
  /punktfunk host listening on (https?:\/\/\S+)\r?\n/.exec(out)?.[1]

export const tokenFileFromStartOutput = (out: string): string | undefined =>
  /^token file: (.+?)(?: \(generated now[^\n]*)?\r?\n/m.exec(out)?.[1]

/** The management API's certificate fingerprint, printed when it serves HTTPS (bound beyond loopback). */
export const fingerprintFromStartOutput = (out: string): string | undefined =>
  /^certificate fingerprint \(SHA-256\): (\S+)\r?\n/m.exec(out)?.[1]

/** The token, once the host has named its file; `undefined` until then. */
export const tokenFromStartOutput = (out: string): string | undefined => {
  const file = tokenFileFromStartOutput(out)
  return file === undefined ? undefined : fs.readFileSync(file, "utf8").trim()
}
