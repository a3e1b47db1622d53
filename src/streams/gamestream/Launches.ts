/**
 * `launch`, `resume` and `cancel`: the session a Moonlight client asks for, recorded for the
 * stream that serves it.
 *
 * `launch` validates and records the request (display mode, the `rikey`/`rikeyid` AES key the
 * control stream and encrypted audio use, audio and gamepad settings) and answers with
 * `sessionUrl0 = rtsp://<host>:<rtsp port>`, as a GameStream host does; RTSP then negotiates the
 * stream for this record, and the stream runs until the client leaves or `cancel` ends the launch.
 *
 * Why one running app per host: that is GameStream's model (serverinfo reports one `currentgame`,
 * clients offer "resume" or "quit" for it), and Moonlight clients are built around it.
 */
import { Effect, Ref } from "effect"
import type { LaunchQuery, ResumeQuery } from "./Query.js"
import { DESKTOP_APP_ID } from "./Apps.js"
import { ok, refusal } from "./Xml.js"
import type { NvResponse } from "./Xml.js"

/** What a client asked for; RTSP reads it (only the launching address may play it). */
export interface LaunchRecord {
  /** Certificate fingerprint of the paired client that launched. */
  readonly client: string
  readonly clientAddress: string
  readonly appid: number
  readonly width: number
  readonly height: number
  readonly fps: number
  /** AES-128 key (hex) and its id for the control/input streams. */
  readonly rikey: string
  readonly rikeyid: number
  readonly localAudioPlayMode: boolean
  readonly surroundAudioInfo: number | undefined
  readonly remoteControllersBitmap: number | undefined
  readonly gcmap: number | undefined
  readonly sops: boolean | undefined
  readonly corever: number | undefined
  readonly launched_unix_ms: number
}

export interface LaunchContext {
  readonly client: string
  readonly clientAddress: string
  /** `rtsp://host:port` as the client reached this host. */
  readonly sessionUrl: string
}

export const makeLaunches = Effect.gen(function* () {
  const current = yield* Ref.make<LaunchRecord | undefined>(undefined)

  const launch = (q: LaunchQuery, ctx: LaunchContext): Effect.Effect<NvResponse> =>
    Effect.gen(function* () {
      if (q.appid !== DESKTOP_APP_ID) return refusal(404, `no app with id ${q.appid} on this host`, [["gamesession", 0]])
      const record: LaunchRecord = {
        client: ctx.client,
        clientAddress: ctx.clientAddress,
        appid: q.appid,
        ...q.mode,
        rikey: Buffer.from(q.rikey).toString("hex"),
        rikeyid: q.rikeyid,
        localAudioPlayMode: q.localAudioPlayMode === "1",
        surroundAudioInfo: q.surroundAudioInfo,
        remoteControllersBitmap: q.remoteControllersBitmap,
        gcmap: q.gcmap,
        sops: q.sops === undefined ? undefined : q.sops === "1",
        corever: q.corever,
        launched_unix_ms: Date.now()
      }
      const admitted = yield* Ref.modify(current, (running): readonly [boolean, LaunchRecord | undefined] =>
        running === undefined ? [true, record] : [false, running]
      )
      if (!admitted) return refusal(400, "an app is already running on this host: resume it or quit it first", [["gamesession", 0]])
      yield* Effect.logInfo(
        `GameStream launch by ${ctx.client.slice(0, 16)}: ${record.width}x${record.height}@${record.fps}; RTSP next`
      )
      return ok([
        ["sessionUrl0", ctx.sessionUrl],
        ["gamesession", 1]
      ])
    })

  const resume = (q: typeof ResumeQuery.Type, ctx: LaunchContext): Effect.Effect<NvResponse> =>
    Effect.gen(function* () {
      const resumed = yield* Ref.modify(current, (running): readonly [boolean, LaunchRecord | undefined] => {
        if (running === undefined) return [false, running]
        return [
          true,
          {
            ...running,
            ...(q.mode ?? {}),
            client: ctx.client,
            clientAddress: ctx.clientAddress,
            rikey: Buffer.from(q.rikey).toString("hex"),
            rikeyid: q.rikeyid,
            localAudioPlayMode: q.localAudioPlayMode === "1",
            surroundAudioInfo: q.surroundAudioInfo ?? running.surroundAudioInfo
          }
        ]
      })
      if (!resumed) return refusal(503, "no running app to resume", [["resume", 0]])
      return ok([
        ["sessionUrl0", ctx.sessionUrl],
        ["resume", 1]
      ])
    })

  const cancel = Ref.set(current, undefined).pipe(Effect.as(ok([["cancel", 1]])))

  /** A removed client's launch goes with it. */
  const forget = (fingerprint: string) => Ref.update(current, (running) => (running?.client === fingerprint ? undefined : running))

  return { current: Ref.get(current), launch, resume, cancel, forget }
})

export type Launches = Effect.Effect.Success<typeof makeLaunches>
