/**
 * nvhttp query parameters as Effect Schemas: every phase of pairing and every launch parameter is
 * decoded here, before any handler sees it, so a missing field, bad hex or a wrong length is a
 * `400` naming the parameter — never an exception deep inside a handler.
 *
 * Why byte lengths are exact where the protocol fixes them (salt 16, challenges 16, hashes 32,
 * rikey 16): a value of another length is a broken or hostile client, and AES-ECB would throw on
 * partial blocks anyway. Lengths of open-ended values (certificate, signatures, names) are capped
 * so a request cannot make the host hold megabytes.
 */
import { Data, Effect, ParseResult, Schema } from "effect"

export class BadRequest extends Data.TaggedError("BadRequest")<{ readonly message: string }> {}

/** Hex of `min`..`max` bytes (either case), decoded to bytes. */
const HexBytes = (min: number, max: number) =>
  Schema.transformOrFail(Schema.String, Schema.Uint8ArrayFromSelf, {
    strict: true,
    decode: (s, _, ast) => {
      if (!/^[0-9a-fA-F]*$/.test(s) || s.length % 2 !== 0) {
        return ParseResult.fail(new ParseResult.Type(ast, s, "must be hex (an even number of 0-9, a-f)"))
      }
      const n = s.length / 2
      if (n < min || n > max) {
        return ParseResult.fail(
          new ParseResult.Type(ast, s, min === max ? `must be ${min} bytes of hex, got ${n}` : `must be ${min} to ${max} bytes of hex, got ${n}`)
        )
      }
      return ParseResult.succeed(new Uint8Array(Buffer.from(s, "hex")))
    },
    encode: (b) => ParseResult.succeed(Buffer.from(b).toString("hex"))
  })

const Text = (max: number) => Schema.String.pipe(Schema.minLength(1), Schema.maxLength(max, { message: () => `must be at most ${max} characters` }))

const IntFromString = (min: number, max: number) =>
  Schema.String.pipe(
    Schema.pattern(/^-?[0-9]{1,11}$/, { message: () => "must be an integer" }),
    Schema.compose(Schema.NumberFromString),
    Schema.int(),
    Schema.between(min, max, { message: () => `must be from ${min} to ${max}` })
  )

const Flag = Schema.Literal("0", "1")

export const UniqueId = Text(64)

/** `mode=1920x1080x60`: the client's display, parsed into numbers with sane bounds. */
export const DisplayMode = Schema.transformOrFail(
  Schema.String,
  Schema.Struct({ width: Schema.Number, height: Schema.Number, fps: Schema.Number }),
  {
    strict: true,
    decode: (s, _, ast) => {
      const m = /^([0-9]{1,5})x([0-9]{1,5})x([0-9]{1,3})$/.exec(s)
      const [width, height, fps] = m === null ? [] : [Number(m[1]), Number(m[2]), Number(m[3])]
      if (width === undefined || height === undefined || fps === undefined) {
        return ParseResult.fail(new ParseResult.Type(ast, s, "must be WIDTHxHEIGHTxFPS, like 1920x1080x60"))
      }
      if (width < 16 || width > 7680 || height < 16 || height > 4320 || fps < 1 || fps > 240) {
        return ParseResult.fail(new ParseResult.Type(ast, s, "is outside 16x16x1 .. 7680x4320x240"))
      }
      return ParseResult.succeed({ width, height, fps })
    },
    encode: (m) => ParseResult.succeed(`${m.width}x${m.height}x${m.fps}`)
  }
)

/** A client certificate as Moonlight sends it: the PEM text, hex-encoded. */
export const ClientCertPem = Schema.transformOrFail(HexBytes(64, 16 * 1024), Schema.String, {
  strict: true,
  decode: (bytes, _, ast) => {
    const text = Buffer.from(bytes).toString("latin1")
    return /^\s*-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/.test(text)
      ? ParseResult.succeed(text)
      : ParseResult.fail(new ParseResult.Type(ast, bytes, "must be a PEM certificate, hex-encoded"))
  },
  encode: (pem) => ParseResult.succeed(new Uint8Array(Buffer.from(pem, "latin1")))
})

export const ServerInfoQuery = Schema.Struct({ uniqueid: Schema.optional(UniqueId) })

export const GetServerCertQuery = Schema.Struct({
  uniqueid: UniqueId,
  phrase: Schema.Literal("getservercert"),
  salt: HexBytes(16, 16),
  clientcert: ClientCertPem,
  devicename: Schema.optional(Text(64))
})

export const ClientChallengeQuery = Schema.Struct({ uniqueid: UniqueId, clientchallenge: HexBytes(16, 16) })
export const ServerChallengeRespQuery = Schema.Struct({ uniqueid: UniqueId, serverchallengeresp: HexBytes(32, 32) })
/** 16 bytes of secret and an RSA signature (256 bytes for 2048-bit keys; up to 4096-bit allowed). */
export const ClientPairingSecretQuery = Schema.Struct({ uniqueid: UniqueId, clientpairingsecret: HexBytes(17, 16 + 512) })
export const PairChallengeQuery = Schema.Struct({ uniqueid: UniqueId, phrase: Schema.Literal("pairchallenge") })
export const UnpairQuery = Schema.Struct({ uniqueid: UniqueId })

export const AppAssetQuery = Schema.Struct({
  appid: IntFromString(0, 2 ** 31 - 1),
  AssetType: Schema.optional(Schema.String),
  AssetIdx: Schema.optional(Schema.String)
})

export const LaunchQuery = Schema.Struct({
  appid: IntFromString(0, 2 ** 31 - 1),
  mode: DisplayMode,
  /** The AES key for the input/control streams the next part serves, and its id. */
  rikey: HexBytes(16, 16),
  rikeyid: IntFromString(-(2 ** 31), 2 ** 32 - 1),
  localAudioPlayMode: Schema.optionalWith(Flag, { default: () => "0" as const }),
  sops: Schema.optional(Flag),
  additionalStates: Schema.optional(Flag),
  surroundAudioInfo: Schema.optional(IntFromString(0, 2 ** 32 - 1)),
  remoteControllersBitmap: Schema.optional(IntFromString(0, 65535)),
  gcmap: Schema.optional(IntFromString(0, 65535)),
  corever: Schema.optional(IntFromString(0, 255))
})
export type LaunchQuery = typeof LaunchQuery.Type

export const ResumeQuery = Schema.Struct({
  mode: Schema.optional(DisplayMode),
  rikey: HexBytes(16, 16),
  rikeyid: IntFromString(-(2 ** 31), 2 ** 32 - 1),
  localAudioPlayMode: Schema.optionalWith(Flag, { default: () => "0" as const }),
  surroundAudioInfo: Schema.optional(IntFromString(0, 2 ** 32 - 1))
})

/**
 * The query string as a record: the first value of each name wins (repeats are ignored).
 * Built with `Object.fromEntries`, which defines own properties: assigning `out[k] = v` would
 * send a parameter named `__proto__` to the prototype setter, which drops it silently.
 */
export const queryRecord = (search: URLSearchParams): Record<string, string> => {
  const first = new Map<string, string>()
  for (const [k, v] of search) if (!first.has(k)) first.set(k, v)
  return Object.fromEntries(first)
}

/** Decode `query` with `schema`; a failure names the first bad or missing parameter. */
export const decodeQuery = <A, I>(schema: Schema.Schema<A, I>, query: Record<string, string>): Effect.Effect<A, BadRequest> =>
  Schema.decodeUnknown(schema)(query).pipe(
    Effect.mapError((e) => {
      const [first] = ParseResult.ArrayFormatter.formatErrorSync(e)
      const name = first?.path[0]
      if (first === undefined) return new BadRequest({ message: "malformed request" })
      if (name === undefined) return new BadRequest({ message: `malformed request: ${first.message}` })
      return first._tag === "Missing"
        ? new BadRequest({ message: `missing parameter '${String(name)}'` })
        : new BadRequest({ message: `bad parameter '${String(name)}': ${first.message}` })
    })
  )
