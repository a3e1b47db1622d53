/**
 * Pairing: which clients may stream from this host. Shared by the host, the CLI and the console's
 * Devices page.
 *
 * The flow (`punktfunk/1`; GameStream reuses the same routes): the client shows a
 * PIN, connects with its certificate and asks to pair; the request waits here as *pending*; the
 * operator types the PIN the client shows; the host checks it against the client's proof and
 * pins the certificate's fingerprint. Why the operator types the client's PIN and not the other
 * way round: the PIN proves that the person at the host can see the client's screen, so a
 * stranger on the LAN who connects first gets nowhere.
 *
 * Why the routes take the request id and fingerprint as plain strings: an unknown or malformed
 * one is `404`, like capture ids, never a schema `400`.
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { ApiError } from "./Errors.js"
import { Authorization } from "./Security.js"

/** The streaming path a client pairs for (the same names as `StreamKind`). */
export const PairingPath = Schema.Literal("punktfunk1", "gamestream")
export type PairingPath = typeof PairingPath.Type

/**
 * A path as the paired-clients file stores it. Hosts before issue 13.8 wrote `"native"` for
 * punktfunk/1 (the word now means only the addon): it still reads, as `punktfunk1`, and the next
 * write of the file says `punktfunk1`. The file keeps its version 1, since reading either spelling
 * is all a reader needs.
 */
const StoredPairingPath = Schema.transform(Schema.Literal("punktfunk1", "gamestream", "native"), PairingPath, {
  strict: true,
  decode: (stored) => (stored === "native" ? "punktfunk1" : stored),
  encode: (path) => path
})

/** SHA-256 of the certificate's DER, lowercase hex: how a client is known everywhere. */
export const Fingerprint = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/))

export const PendingPairing = Schema.Struct({
  request_id: Schema.String,
  path: PairingPath,
  /** The name the client gave itself (shown to the operator; not trusted for anything). */
  name: Schema.String,
  fingerprint: Fingerprint,
  /** The network address the request came from (the socket's, never a header the client wrote). */
  address: Schema.String,
  requested_unix_ms: Schema.Number
})
export type PendingPairing = typeof PendingPairing.Type

/**
 * An address refused for now: too many wrong PINs came from it. `remaining_ms` is the host's own
 * count, so a browser whose clock differs still shows the right time left.
 */
export const PairingLockout = Schema.Struct({
  address: Schema.String,
  locked_until_unix_ms: Schema.Number,
  remaining_ms: Schema.Number
})
export type PairingLockout = typeof PairingLockout.Type

export const PairedClient = Schema.Struct({
  fingerprint: Fingerprint,
  path: PairingPath,
  name: Schema.String,
  paired_unix_ms: Schema.Number
})
export type PairedClient = typeof PairedClient.Type

/** The paired-clients file on disk (a client's path in the stored spelling, see `StoredPairingPath`). */
export const PairedClients = Schema.Struct({
  version: Schema.Literal(1),
  clients: Schema.Array(Schema.Struct({ ...PairedClient.fields, path: StoredPairingPath }))
})
export type PairedClients = typeof PairedClients.Type

export const PinEntry = Schema.Struct({
  pin: Schema.String.pipe(
    Schema.pattern(/^[0-9]{4,8}$/, { message: () => "a PIN is 4 to 8 digits, as the client shows it" })
  )
})
export type PinEntry = typeof PinEntry.Type

export class PairingRequestNotFound extends ApiError<PairingRequestNotFound>()("PairingRequestNotFound", 404, { request_id: Schema.String }) {}

/** The PIN did not match the client's proof. The request is refused (the client must start over). */
export class WrongPin extends ApiError<WrongPin>()("WrongPin", 403, { request_id: Schema.String }) {}

export class ClientNotFound extends ApiError<ClientNotFound>()("ClientNotFound", 404, { fingerprint: Schema.String }) {}

export class PairingSaveError extends ApiError<PairingSaveError>()("PairingSaveError", 507) {}

const requestId = HttpApiSchema.param("request_id", Schema.String)
const fingerprint = HttpApiSchema.param("fingerprint", Schema.String)

export class PairingGroup extends HttpApiGroup.make("pairing")
  .add(HttpApiEndpoint.get("pending", "/pending").addSuccess(Schema.Array(PendingPairing)))
  .add(
    HttpApiEndpoint.post("enterPin")`/pending/${requestId}/pin`
      .setPayload(PinEntry)
      .addSuccess(PairedClient)
      .addError(PairingRequestNotFound)
      .addError(WrongPin)
      .addError(PairingSaveError)
  )
  .add(
    HttpApiEndpoint.del("reject")`/pending/${requestId}`
      .addSuccess(HttpApiSchema.NoContent)
      .addError(PairingRequestNotFound)
  )
  .add(HttpApiEndpoint.get("lockouts", "/lockouts").addSuccess(Schema.Array(PairingLockout)))
  .add(HttpApiEndpoint.get("clients", "/clients").addSuccess(Schema.Array(PairedClient)))
  .add(
    HttpApiEndpoint.del("unpair")`/clients/${fingerprint}`
      .addSuccess(HttpApiSchema.NoContent)
      .addError(ClientNotFound)
      .addError(PairingSaveError)
  )
  .middleware(Authorization)
  .prefix("/api/v1/pairing")
  .annotate(
    OpenApi.Description,
    "Pair clients by PIN, list and remove paired clients, see addresses locked out after wrong PINs."
  ) {}
