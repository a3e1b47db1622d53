/**
 * The operator's bearer token: generated at first start into a `0600` file, read on every later
 * start, and compared in constant time.
 *
 * Why hash before comparing: `timingSafeEqual` needs equal lengths, and comparing lengths first
 * would leak the token's length; comparing two SHA-256 digests is constant-time whatever is sent.
 */
import { Context, Data, Effect, Layer, Redacted } from "effect"
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import * as fs from "node:fs/promises"
import { writePrivateFileAtomic } from "./PrivateFile.js"

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

const readOrCreateToken = (tokenFile: string) =>
  Effect.tryPromise({
    try: async () => {
      try {
        const existing = (await fs.readFile(tokenFile, "utf8")).trim()
        if (existing.length < 16) throw new Error(`token file ${tokenFile} holds fewer than 16 characters`)
        return { token: existing, generated: false }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e
      }
      const token = randomBytes(32).toString("base64url")
      await writePrivateFileAtomic(tokenFile, token + "\n")
      return { token, generated: true }
    },
    catch: (e) => new TokenError({ message: `cannot read or create the token file: ${e instanceof Error ? e.message : String(e)}` })
  })

export const AuthLive = (tokenFile: string): Layer.Layer<Auth, TokenError> =>
  Layer.effect(
    Auth,
    readOrCreateToken(tokenFile).pipe(Effect.map(({ token, generated }) => makeAuth(token, tokenFile, generated)))
  )
