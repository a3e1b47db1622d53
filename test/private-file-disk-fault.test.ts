/**
 * The pairing list, the host's two identities (punktfunk/1 and GameStream) and the token are
 * written through the host's `DiskOps` (issue
 * 13.4), so a disk that refuses mid-write reaches them the way it reaches a capture save: the
 * operator gets an error naming the disk's reason, the file on disk is the old one, whole, and no
 * half-written temp file is left beside it. Injected (the tests run as root, where permissions
 * refuse nothing): the "disk" writes half the bytes, then answers ENOSPC.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber, Layer, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { PairedClients } from "../src/api/Pairing.js"
import { DiskOps, nodeDiskOps, toDiskError } from "../src/services/DiskOps.js"
import { Auth, AuthLive } from "../src/services/Auth.js"
import { HostIdentityLive } from "../src/services/HostIdentity.js"
import { GameStreamIdentityLive } from "../src/streams/gamestream/Identity.js"
import { Pairing, PairingLive } from "../src/services/Pairing.js"

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "pf-private-fault-"))

/** While `failing.on`, a write of a temp file whose name ends in `suffix` writes half its data and fails ENOSPC. */
const fillingDisk = (suffix: string, failing: { on: boolean }) =>
  Layer.succeed(DiskOps, {
    ...nodeDiskOps,
    writeDurable: (file, data) =>
      failing.on && file.endsWith(suffix)
        ? nodeDiskOps.writeDurable(file, data.slice(0, data.length >> 1)).pipe(
            Effect.zipRight(Effect.fail(toDiskError("write", file, Object.assign(new Error("injected"), { code: "ENOSPC" }))))
          )
        : nodeDiskOps.writeDurable(file, data)
  })

const pairOne = (fingerprint: string) =>
  Effect.gen(function* () {
    const pairing = yield* Pairing
    const waiting = yield* Effect.fork(
      Effect.either(
        pairing.request({
          path: "punktfunk1",
          name: `client-${fingerprint.slice(0, 4)}`,
          fingerprint,
          address: "192.0.2.7",
          checkPin: (pin) => Effect.succeed(pin === "1234"),
          onPending: () => Effect.void
        })
      )
    )
    let listed = yield* pairing.pending
    while (listed.length === 0) {
      yield* Effect.sleep("5 millis")
      listed = yield* pairing.pending
    }
    const operator = yield* Effect.either(pairing.enterPin(listed[0]!.request_id, "1234"))
    const client = yield* Fiber.join(waiting)
    return { operator, client }
  })

describe("private files through DiskOps", () => {
  it.scopedLive("a disk fault while saving a pairing: the operator reads why, the old list stays whole, no half file", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const file = path.join(dir, "paired-clients.json")
      const failing = { on: false }
      const layer = PairingLive(dir).pipe(Layer.provide(fillingDisk("paired-clients.json.tmp", failing)))
      yield* Effect.gen(function* () {
        const first = yield* pairOne("a".repeat(64))
        expect(Either.isRight(first.operator)).toBe(true)
        const before = fs.readFileSync(file, "utf8")

        failing.on = true
        const second = yield* pairOne("b".repeat(64))
        expect(Either.isLeft(second.operator)).toBe(true)
        if (Either.isLeft(second.operator)) {
          expect(second.operator.left._tag).toBe("PairingSaveError")
          expect(second.operator.left.message).toContain("the disk is full (ENOSPC)")
          expect(second.operator.left.message).toContain("paired-clients.json")
        }
        // The client is not told it paired, and the host does not list it.
        expect(Either.isLeft(second.client)).toBe(true)
        expect((yield* Effect.flatMap(Pairing, (p) => p.clients)).map((c) => c.fingerprint)).toEqual(["a".repeat(64)])
        // On disk: the old list, byte for byte and decodable; nothing half-written beside it.
        expect(fs.readFileSync(file, "utf8")).toBe(before)
        expect(Schema.decodeUnknownSync(Schema.parseJson(PairedClients))(before).clients).toHaveLength(1)
        expect(fs.readdirSync(dir)).toEqual(["paired-clients.json"])

        // Space came back: the next pairing saves.
        failing.on = false
        const third = yield* pairOne("c".repeat(64))
        expect(Either.isRight(third.operator)).toBe(true)
        expect(Schema.decodeUnknownSync(Schema.parseJson(PairedClients))(fs.readFileSync(file, "utf8")).clients).toHaveLength(2)
      }).pipe(Effect.provide(layer))
    })
  )

  it.effect("a disk fault while making the host's identity: the start fails naming it, no key or half file left", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const built = yield* Effect.either(
        Layer.build(HostIdentityLive(dir).pipe(Layer.provide(fillingDisk("host-key.pem.tmp", { on: true })))).pipe(Effect.scoped)
      )
      expect(Either.isLeft(built)).toBe(true)
      if (Either.isLeft(built)) {
        expect(built.left._tag).toBe("IdentityError")
        expect(built.left.message).toContain("the disk is full (ENOSPC)")
      }
      expect(fs.readdirSync(dir)).toEqual([])
    })
  )

  it.effect("a disk fault while making the GameStream identity: the start fails naming it, no key or half file left", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const built = yield* Effect.either(
        Layer.build(GameStreamIdentityLive(dir).pipe(Layer.provide(fillingDisk("gamestream-key.pem.tmp", { on: true })))).pipe(Effect.scoped)
      )
      expect(Either.isLeft(built)).toBe(true)
      if (Either.isLeft(built)) {
        expect(built.left._tag).toBe("GameStreamIdentityError")
        expect(built.left.message).toContain("the disk is full (ENOSPC)")
        expect(built.left.message).toContain("gamestream-key.pem")
      }
      expect(fs.readdirSync(dir)).toEqual([])
      // Space came back: the identity is made, key and certificate private.
      const made = yield* Layer.build(GameStreamIdentityLive(dir).pipe(Layer.provide(fillingDisk("never", { on: false })))).pipe(Effect.scoped)
      expect(made).toBeDefined()
      expect(fs.readdirSync(dir).sort()).toEqual(["gamestream-cert.pem", "gamestream-key.pem"])
      expect(fs.statSync(path.join(dir, "gamestream-key.pem")).mode & 0o777).toBe(0o600)
    })
  )

  it.effect("a disk fault while writing a new token: the start fails naming the file, no token or half file left", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const tokenFile = path.join(dir, "token")
      const built = yield* Effect.either(
        Layer.build(AuthLive(tokenFile).pipe(Layer.provide(fillingDisk("token.tmp", { on: true })))).pipe(Effect.scoped)
      )
      expect(Either.isLeft(built)).toBe(true)
      if (Either.isLeft(built)) {
        expect(built.left._tag).toBe("TokenError")
        expect(built.left.message).toContain("the disk is full (ENOSPC)")
        expect(built.left.message).toContain(tokenFile)
      }
      expect(fs.readdirSync(dir)).toEqual([])
    })
  )

  it.effect("a token file put in a directory of the operator's keeps that directory's mode; the token itself is 0600", () =>
    Effect.gen(function* () {
      const shared = tempDir()
      fs.chmodSync(shared, 0o755)
      const tokenFile = path.join(shared, "token")
      const auth = yield* Effect.flatMap(Auth, Effect.succeed).pipe(
        Effect.provide(AuthLive(tokenFile).pipe(Layer.provide(fillingDisk("never", { on: false }))))
      )
      expect(auth.generated).toBe(true)
      expect(fs.statSync(shared).mode & 0o777).toBe(0o755)
      expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600)
      // A directory that did not exist is made private.
      const fresh = path.join(tempDir(), "nested", "dir")
      yield* Effect.flatMap(Auth, Effect.succeed).pipe(
        Effect.provide(AuthLive(path.join(fresh, "token")).pipe(Layer.provide(fillingDisk("never", { on: false }))))
      )
      expect(fs.statSync(fresh).mode & 0o777).toBe(0o700)
    })
  )
})
