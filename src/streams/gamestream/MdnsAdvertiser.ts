/**
 * Announces the GameStream host on the LAN the way Moonlight looks for hosts: an mDNS service
 * `_nvstream._tcp` whose SRV record points at nvhttp's HTTP port. Moonlight lists what it finds
 * and then asks that port for `serverinfo`; without the announcement the operator has to type
 * the host's address into every client.
 *
 * The responder is @homebridge/ciao (RFC 6762/6763: probing, name-conflict renaming, goodbye
 * packets, following interfaces that come and go), so none of that is ours to get wrong.
 *
 * What is announced follows where the streaming ports listen (`PUNKTFUNK_STREAM_BIND`): on a
 * wildcard bind every interface; on one address only that address; on loopback nothing — a LAN
 * client could not reach a loopback host, so telling it about one would only show a host that
 * never answers. Announcing is a convenience: when it cannot start (no usable interface, port
 * 5353 refused) the host says so and goes on, reachable by address as before.
 */
import { getResponder } from "@homebridge/ciao"
import type { CiaoService, Responder } from "@homebridge/ciao"
import { Data, Effect, Layer } from "effect"
import * as os from "node:os"
import { HostConfig } from "../../services/Config.js"
import { GameStream } from "./GameStreamServer.js"

export class MdnsError extends Data.TaggedError("MdnsError")<{ readonly message: string }> {}

/** The service type Moonlight browses for. */
export const NVSTREAM_SERVICE_TYPE = "nvstream"

export type AnnounceScope =
  | { readonly _tag: "all" }
  | { readonly _tag: "address"; readonly address: string }
  | { readonly _tag: "none"; readonly reason: string }

const LOOPBACK = /^(127\.|::1$|localhost$)/i

/** Where to announce, from the address the streaming ports are bound to. */
export const announceScope = (streamBind: string): AnnounceScope => {
  const bind = streamBind.trim()
  if (bind === "0.0.0.0" || bind === "::" || bind === "") return { _tag: "all" }
  if (LOOPBACK.test(bind)) {
    return { _tag: "none", reason: `the streaming ports are bound to loopback (${bind}); LAN clients could not reach them` }
  }
  return { _tag: "address", address: bind }
}

/**
 * The instance name Moonlight shows until it has read `serverinfo`: the machine's name, as in
 * serverinfo's `hostname`. DNS labels hold at most 63 bytes.
 */
export const instanceName = (hostname: string = os.hostname()): string => {
  const name = hostname.trim() === "" ? "punktfunk" : hostname.trim()
  let out = ""
  for (const ch of name) {
    if (Buffer.byteLength(out + ch) > 63) break
    out += ch
  }
  return out
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

interface Announcement {
  readonly responder: Responder
  readonly service: CiaoService
}

const announce = (name: string, port: number, scope: Exclude<AnnounceScope, { _tag: "none" }>) =>
  Effect.tryPromise({
    try: async (): Promise<Announcement> => {
      // Only IPv4: the host's GameStream sockets (and Debian's libenet underneath the control
      // stream) are IPv4, so an AAAA record would send a client somewhere nothing listens.
      const responder = getResponder({
        disableIpv6: true,
        ...(scope._tag === "address" ? { interface: scope.address } : {})
      })
      // A TXT with one entry (RFC 6763 §6.7's `txtvers`), not none: an empty TXT goes on the
      // wire as one empty string, and ciao, comparing that echo of its own announcement with
      // its own empty list, takes it for a rival host and starts probing again, without end.
      const service = responder.createService({ name, type: NVSTREAM_SERVICE_TYPE, port, disabledIpv6: true, txt: { txtvers: "1" } })
      try {
        await service.advertise()
      } catch (e) {
        await responder.shutdown().catch(() => undefined)
        throw e
      }
      return { responder, service }
    },
    catch: (e) => new MdnsError({ message: `mDNS announcement of _${NVSTREAM_SERVICE_TYPE}._tcp failed: ${message(e)}` })
  })

/** Goodbye packets first (clients drop the host at once instead of when its TTL runs out). */
const withdraw = ({ responder, service }: Announcement) =>
  Effect.promise(async () => {
    await service.end().catch(() => undefined)
    await service.destroy().catch(() => undefined)
    await responder.shutdown().catch(() => undefined)
  })

/**
 * Announces the GameStream service for as long as the layer lives. Never fails the host: a
 * failure to announce is logged with its reason. Probing the name takes the better part of a
 * second (RFC 6762 §8.1), so it runs beside the host's start instead of delaying it; the
 * goodbye is still sent when the layer closes, whenever that is.
 */
export const GameStreamMdnsLive: Layer.Layer<never, never, GameStream | HostConfig> = Layer.scopedDiscard(
  Effect.gen(function* () {
    const config = yield* HostConfig
    const gamestream = yield* GameStream
    const scope = announceScope(config.streamBind)
    if (scope._tag === "none") {
      yield* Effect.logInfo(`GameStream is not announced over mDNS: ${scope.reason}`)
      return
    }
    const name = instanceName()
    yield* Effect.acquireRelease(announce(name, gamestream.httpPort, scope), withdraw).pipe(
      Effect.tap(() =>
        Effect.logInfo(`GameStream announced over mDNS as "${name}" (_${NVSTREAM_SERVICE_TYPE}._tcp, port ${gamestream.httpPort})`)
      ),
      Effect.catchAll((e) => Effect.logWarning(`${e.message}; Moonlight clients can still add this host by its address`)),
      Effect.forkScoped
    )
  })
)
