/**
 * The client's memory of hosts it paired with: `<dir>/hosts.json`, host:port → fingerprint.
 * Written atomically (`0600`): losing it means pairing again, never trusting a stranger.
 */
import { Effect, Schema } from "effect"
import * as path from "node:path"
import { readIfExists, writePrivateFile } from "../lib/PrivateFile.js"
import { nodeDiskOps } from "../services/DiskOps.js"
import { ClientError } from "./ControlClient.js"
import type { Endpoint } from "./ControlClient.js"

const HostsFile = Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.String }))

const keyOf = (endpoint: Endpoint) => `${endpoint.host}:${endpoint.port}`

const read = (dir: string) =>
  Effect.tryPromise({
    try: () => readIfExists(path.join(dir, "hosts.json")),
    catch: (e) => new ClientError({ message: `cannot read the pinned hosts: ${String(e)}` })
  }).pipe(
    Effect.flatMap((text) =>
      text === undefined
        ? Effect.succeed({} as Record<string, string>)
        : Schema.decodeUnknown(HostsFile)(text).pipe(
            Effect.mapError((e) => new ClientError({ message: `${path.join(dir, "hosts.json")} is damaged: ${e.message}` }))
          )
    )
  )

export const pinnedHost = (dir: string, endpoint: Endpoint) =>
  read(dir).pipe(
    Effect.flatMap((hosts) => {
      const fp = hosts[keyOf(endpoint)]
      return fp === undefined
        ? Effect.fail(new ClientError({ message: `not paired with ${keyOf(endpoint)}: run 'punktfunk-client pair' first` }))
        : Effect.succeed(fp)
    })
  )

export const pinHost = (dir: string, endpoint: Endpoint, fingerprint: string) =>
  read(dir).pipe(
    Effect.flatMap((hosts) =>
      // The one private-file write (temp file, fsync, rename), on the plain disk: the client has no fault layer.
      writePrivateFile(nodeDiskOps, path.join(dir, "hosts.json"), Schema.encodeSync(HostsFile)({ ...hosts, [keyOf(endpoint)]: fingerprint }) + "\n").pipe(
        Effect.mapError((e) => new ClientError({ message: `cannot save the pinned host: ${e.message}` }))
      )
    )
  )
