/**
 * The operator's bearer token: generated at first start into a `0600` file, read on every later
 * start, and compared in constant time.
 *
 * Why a token file open to group or others stops the start: whoever reads the file operates the
 * host (arms captures, pairs clients that then inject input). A mode like 0644 usually comes
 * from a copy or a restore that lost the permissions; starting anyway would serve a token that
 * other local users may already have read, so the operator is told the file and the fix instead.
 *
 * Why hash before comparing: `timingSafeEqual` needs equal lengths, and comparing lengths first
 * would leak the token's length; comparing two SHA-256 digests is constant-time whatever is sent.
 */
import { Context, Data, Effect, Layer, Redacted } from "effect"
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import * as fs from "node:fs/promises"
import { writePrivateFile } from "../lib/PrivateFile.js"
import { DiskOps } from "./DiskOps.js"
import type { DiskOpsService } from "./DiskOps.js"

export class TokenError extends Data.TaggedError("TokenError")<{ readonly message: string }> {}

export interface AuthService {
  readonly token: Redacted.Redacted<string>
  readonly tokenFile: string
  readonly generated: boolean
  readonly check: (presented: string) => boolean
}

export class Auth extends Context.Tag("punktfunk/Auth")<Auth, AuthService>() {}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest()

export const makeAuth = (token: string, tokenFile: string, generated: boolean): AuthService => {
  const expected = digest(token)
  return {
    token: Redacted.make(token),
    tokenFile,
    generated,
    check: (presented) => timingSafeEqual(digest(presented), expected)
  }
}

/**
 * The token of an existing file, or `undefined` when there is none. The mode is read from the
 * opened handle, so the file checked is the file read.
 */
const readPrivateToken = async (tokenFile: string): Promise<string | undefined> => {
  let handle: fs.FileHandle
  try {
    handle = await fs.open(tokenFile, "r")
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw e
  }
  try {
    const mode = (await handle.stat()).mode & 0o777
    if ((mode & 0o077) !== 0) {
      throw new TokenError({
        message: `the token file ${tokenFile} is open to group or others (mode ${mode.toString(8).padStart(4, "0")}); whoever reads it operates this host. Fix: chmod 600 ${tokenFile}`
      })
    }
    const existing = (await handle.readFile("utf8")).trim()
    if (existing.length < 16) throw new Error(`token file ${tokenFile} holds fewer than 16 characters`)
    return existing
  } finally {
    await handle.close()
  }
}

const readOrCreateToken = (tokenFile: string, disk: DiskOpsService) =>
  Effect.tryPromise({
    try: async () => {
      const existing = await readPrivateToken(tokenFile)
      if (existing !== undefined) return { token: existing, generated: false }
      const token = randomBytes(32).toString("base64url")
      // Through the host's DiskOps: a full disk is a start refused naming the file, not a half token.
      await Effect.runPromise(writePrivateFile(disk, tokenFile, token + "\n", { dirIsOurs: false }).pipe(Effect.mapError((e) => new Error(e.message))))
      return { token, generated: true }
    },
    catch: (e) =>
      e instanceof TokenError
        ? e
        : new TokenError({ message: `cannot read or create the token file: ${e instanceof Error ? e.message : String(e)}` })
  })

export const AuthLive = (tokenFile: string): Layer.Layer<Auth, TokenError, DiskOps> =>
  Layer.effect(
    Auth,
    Effect.flatMap(DiskOps, (disk) => readOrCreateToken(tokenFile, disk)).pipe(Effect.map(({ token, generated }) => makeAuth(token, tokenFile, generated)))
  )
