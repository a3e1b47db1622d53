/**
 * The RTSP side of a GameStream client for the tests, written from the protocol description
 * (what a Moonlight client sends and what it reads back), not from the host's code.
 *
 * As Moonlight does it against a host reporting appversion 7.1.431.-1 ("Sunshine-like"):
 *  - every request on its own TCP connection; the answer is everything read until the host
 *    closes (so a host that keeps the connection open hangs the client);
 *  - requests carry `CSeq` (from 1), `X-GS-ClientVersion: 14` and `Host`;
 *  - OPTIONS and DESCRIBE go to the session URL; SETUP to `streamid=audio/0/0`,
 *    `streamid=video/0/0`, `streamid=control/13/0` with `Transport:
 *    unicast;X-GS-ClientPort=50000-50001`; ANNOUNCE (`Content-type: application/sdp`,
 *    `Content-length`) to `streamid=control/13/0`; one PLAY to `/`;
 *  - answers are read the way Moonlight's parser reads them: header names matched exactly
 *    (case-sensitive), a value is what follows `: `, a message needs at least one header and the
 *    empty line; `Session` is cut at the first `;`, `X-SS-Ping-Payload` is used only when it is
 *    16 characters, `X-SS-Connect-Data` is read like C's `strtoul(s, NULL, 0)` (so a leading 0
 *    would mean octal), the port is the integer after `server_port=` in `Transport`.
 *
 * `moonlightAnnounce` writes the ANNOUNCE SDP as a Moonlight client does for such a host
 * (attribute order, `a=name:value ` with the trailing space, the bitrate it announces being 80%
 * of the user's, capped at 100 Mb/s), with overrides for the bad-input tests.
 */
import * as net from "node:net"

export interface RtspAnswer {
  readonly status: number
  readonly reason: string
  /** Exactly as sent; look up with `header` (case-sensitive, as Moonlight does). */
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly body: string
  readonly header: (name: string) => string | undefined
}

/**
 * Sends `bytes` on a fresh connection and returns everything until the host closes it. With
 * `segment`, the bytes go out in pieces of that size, one per event-loop turn with no-delay on
 * (Moonlight sends in 536-byte pieces, so the host must reassemble a request across reads).
 */
export const exchange = (
  port: number,
  bytes: Buffer | string,
  host = "127.0.0.1",
  segment?: number,
  /** Another loopback address to send from (attackers in tests use 127.0.0.2–254). */
  localAddress?: string
): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    const data = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes
    const socket = net.connect({ port, host, ...(localAddress === undefined ? {} : { localAddress }) }, () => {
      if (segment === undefined) return void socket.write(data)
      socket.setNoDelay(true)
      const send = (offset: number) => {
        if (offset >= data.length || socket.destroyed) return
        socket.write(data.subarray(offset, offset + segment))
        setTimeout(() => send(offset + segment), 1)
      }
      send(0)
    })
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    socket.on("close", () => resolve(Buffer.concat(chunks)))
    socket.on("error", (e) => (chunks.length > 0 ? resolve(Buffer.concat(chunks)) : reject(e)))
  })

/** Moonlight's reading of an answer; throws where Moonlight's parser would fail. */
export const parseAnswer = (raw: Buffer): RtspAnswer => {
  const text = raw.toString("latin1")
  const end = text.indexOf("\r\n\r\n")
  if (end < 0) throw new Error(`no empty line ending the RTSP head in ${JSON.stringify(text.slice(0, 200))}`)
  const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n")
  const m = /^RTSP\/1\.0 ([0-9]{3}) (.+)$/.exec(statusLine)
  if (m === null) throw new Error(`bad status line ${JSON.stringify(statusLine)}`)
  if (lines.length === 0) throw new Error("an answer without headers (Moonlight's parser refuses it)")
  const headers = lines.map((line): readonly [string, string] => {
    const colon = line.indexOf(": ")
    if (colon <= 0) throw new Error(`bad header line ${JSON.stringify(line)}`)
    return [line.slice(0, colon), line.slice(colon + 2)]
  })
  return {
    status: Number(m[1]),
    reason: m[2] ?? "",
    headers,
    body: raw.subarray(Buffer.byteLength(text.slice(0, end + 4), "latin1")).toString("utf8"),
    header: (name) => headers.find(([n]) => n === name)?.[1]
  }
}

/** C's `strtoul(s, NULL, 0)`, as Moonlight reads `X-SS-Connect-Data`. */
export const strtoul0 = (s: string): number => {
  const t = s.trim()
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(t)
  if (m === null) return 0
  const digits = m[1] ?? "0"
  const value = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.startsWith("0") ? parseInt(digits, 8) || 0 : parseInt(digits, 10)
  return value >>> 0
}

export const serverPortOf = (answer: RtspAnswer): number | undefined => {
  const transport = answer.header("Transport")
  const at = transport?.indexOf("server_port=") ?? -1
  if (transport === undefined || at < 0) return undefined
  const port = parseInt(transport.slice(at + "server_port=".length), 10)
  return port > 0 && port <= 65535 ? port : undefined
}

// ---- the ANNOUNCE body -----------------------------------------------------------------------

export interface ClientStreamConfig {
  readonly width: number
  readonly height: number
  readonly fps: number
  /** What the user chose; the SDP carries 80% of it as the video bitrate. */
  readonly bitrateKbps: number
  readonly packetSize: number
  readonly audioChannels: number
  readonly audioChannelMask: number
  readonly slicesPerFrame: number
  readonly audioPacketDurationMs: number
  /** Moonlight's ENCFLG_AUDIO: asks for encrypted audio through the legacy feature flags. */
  readonly encryptAudio: boolean
  /**
   * Moonlight's ENCFLG_VIDEO, against a host that offers it: bit 0x02 of
   * `x-ss-general.encryptionEnabled`, and a packetSize 32 bytes smaller (the encrypted datagram's
   * prefix), as moonlight-common-c's SdpGenerator.c announces it. Absent: not asked.
   */
  readonly encryptVideo?: boolean
  /** 0 H.264, 1 HEVC, 2 AV1. */
  readonly bitStreamFormat: number
}

export const DEFAULT_CLIENT_CONFIG: ClientStreamConfig = {
  width: 1280,
  height: 720,
  fps: 60,
  bitrateKbps: 10_000,
  packetSize: 1392,
  audioChannels: 2,
  audioChannelMask: 0x3,
  slicesPerFrame: 4,
  audioPacketDurationMs: 5,
  encryptAudio: false,
  bitStreamFormat: 0
}

/** The packetSize the client announces (and then parses decrypted datagrams with). */
export const announcedPacketSize = (config: ClientStreamConfig): number => config.packetSize - (config.encryptVideo === true ? 32 : 0)

/** The video bitrate a Moonlight client announces for the user's choice. */
export const announcedBitrate = (userKbps: number) => Math.min(Math.trunc(userKbps * 0.8), 100_000)

/**
 * The ANNOUNCE SDP. `overrides` replaces an attribute's value (or removes it with `undefined`);
 * names not in the list are appended.
 */
export const moonlightAnnounce = (
  config: ClientStreamConfig = DEFAULT_CLIENT_CONFIG,
  overrides: Readonly<Record<string, string | undefined>> = {}
): string => {
  const bitrate = String(announcedBitrate(config.bitrateKbps))
  const small = config.width < 720 || config.height < 540
  const attributes: Array<[string, string]> = [
    ["x-ml-general.featureFlags", "3"],
    // The V2 control IV, taken whenever DESCRIBE offers it; video when the config asks.
    ["x-ss-general.encryptionEnabled", String(0x01 | (config.encryptVideo === true ? 0x02 : 0))],
    ["x-ss-video[0].chromaSamplingType", "0"],
    ["x-nv-video[0].clientViewportWd", String(config.width)],
    ["x-nv-video[0].clientViewportHt", String(config.height)],
    ["x-nv-video[0].maxFPS", String(config.fps)],
    ["x-nv-video[0].packetSize", String(announcedPacketSize(config))],
    ["x-nv-video[0].rateControlMode", "4"],
    ["x-nv-video[0].timeoutLengthMs", "7000"],
    ["x-nv-video[0].framesWithInvalidRefThreshold", "0"],
    ["x-nv-video[0].initialBitrateKbps", bitrate],
    ["x-nv-video[0].initialPeakBitrateKbps", bitrate],
    ["x-nv-vqos[0].bw.minimumBitrateKbps", bitrate],
    ["x-nv-vqos[0].bw.maximumBitrateKbps", bitrate],
    ["x-ml-video.configuredBitrateKbps", String(config.bitrateKbps)],
    ["x-nv-vqos[0].fec.enable", "1"],
    ["x-nv-vqos[0].videoQualityScoreUpdateTime", "5000"],
    ["x-nv-vqos[0].qosTrafficType", "5"],
    ["x-nv-aqos.qosTrafficType", "4"],
    ["x-nv-general.featureFlags", String(0x07 | 0x80 | (config.encryptAudio ? 0x20 : 0))],
    ["x-nv-general.useReliableUdp", "13"],
    ["x-nv-vqos[0].fec.minRequiredFecPackets", "2"],
    ["x-nv-vqos[0].bllFec.enable", "0"],
    ...(small
      ? ([
          ["x-nv-vqos[0].drc.enable", "1"],
          ["x-nv-vqos[0].drc.tableType", "2"]
        ] as Array<[string, string]>)
      : ([["x-nv-vqos[0].drc.enable", "0"]] as Array<[string, string]>)),
    ["x-nv-general.enableRecoveryMode", "0"],
    ["x-nv-video[0].videoEncoderSlicesPerFrame", String(config.slicesPerFrame)],
    ["x-nv-clientSupportHevc", config.bitStreamFormat === 1 ? "1" : "0"],
    ["x-nv-vqos[0].bitStreamFormat", String(config.bitStreamFormat)],
    ["x-nv-video[0].dynamicRangeMode", "0"],
    ["x-nv-video[0].maxNumReferenceFrames", "1"],
    ["x-nv-video[0].clientRefreshRateX100", String(config.fps * 100)],
    ["x-nv-audio.surround.numChannels", String(config.audioChannels)],
    ["x-nv-audio.surround.channelMask", String(config.audioChannelMask)],
    ["x-nv-audio.surround.enable", config.audioChannels > 2 ? "1" : "0"],
    ["x-nv-audio.surround.AudioQuality", "0"],
    ["x-nv-aqos.packetDuration", String(config.audioPacketDurationMs)],
    ["x-nv-video[0].encoderCscMode", "2"]
  ]
  const names = new Set(attributes.map(([n]) => n))
  const lines = attributes
    .map(([name, value]): [string, string | undefined] => [name, name in overrides ? overrides[name] : value])
    .concat(Object.entries(overrides).filter(([name]) => !names.has(name)))
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `a=${name}:${value} \r\n`)
  return `v=0\r\no=android 0 14 IN IPv4 127.0.0.1\r\ns=NVIDIA Streaming Client\r\n${lines.join("")}t=0 0\r\nm=video 47998  \r\n`
}

// ---- the client ----------------------------------------------------------------------------------

export interface HandshakeResult {
  readonly describe: RtspAnswer
  readonly session: string
  readonly audioPort: number | undefined
  readonly videoPort: number | undefined
  readonly controlPort: number | undefined
  readonly audioPingPayload: string | undefined
  readonly videoPingPayload: string | undefined
  readonly connectData: number
  readonly announce: RtspAnswer
  readonly play: RtspAnswer
}

export class RtspClient {
  private cseq = 1
  session: string | undefined
  /** When set, every request goes out in pieces of this many bytes (see `exchange`). */
  segment: number | undefined

  constructor(
    readonly port: number,
    readonly host = "127.0.0.1",
    /** The `sessionUrl0` from launch; OPTIONS and DESCRIBE go there. */
    readonly sessionUrl = `rtsp://${host}:${port}`
  ) {}

  /** One request as Moonlight serializes it, on its own connection. */
  async request(method: string, target: string, headers: ReadonlyArray<readonly [string, string]> = [], body?: string): Promise<RtspAnswer> {
    const lines = [`${method} ${target} RTSP/1.0`, `CSeq: ${this.cseq++}`, "X-GS-ClientVersion: 14", `Host: ${this.host}`]
    for (const [name, value] of headers) lines.push(`${name}: ${value}`)
    const head = `${lines.join("\r\n")}\r\n\r\n`
    return parseAnswer(await exchange(this.port, body === undefined ? head : head + body, this.host, this.segment))
  }

  options() {
    return this.request("OPTIONS", this.sessionUrl)
  }

  describe() {
    return this.request("DESCRIBE", this.sessionUrl, [
      ["Accept", "application/sdp"],
      ["If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"]
    ])
  }

  async setup(target: string): Promise<RtspAnswer> {
    const answer = await this.request("SETUP", target, [
      ...(this.session === undefined ? [] : ([["Session", this.session]] as const)),
      ["Transport", "unicast;X-GS-ClientPort=50000-50001"],
      ["If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"]
    ])
    const session = answer.header("Session")?.split(";")[0]
    if (answer.status === 200 && this.session === undefined && session !== undefined && session !== "") this.session = session
    return answer
  }

  announce(sdp: string) {
    return this.request(
      "ANNOUNCE",
      "streamid=control/13/0",
      [
        ["Session", this.session ?? ""],
        ["Content-type", "application/sdp"],
        ["Content-length", String(Buffer.byteLength(sdp))]
      ],
      sdp
    )
  }

  play() {
    return this.request("PLAY", "/", [["Session", this.session ?? ""]])
  }

  /** The whole handshake; throws at the first answer that is not 200, as Moonlight stops there. */
  async handshake(sdp: string = moonlightAnnounce()): Promise<HandshakeResult> {
    const ok = (step: string, a: RtspAnswer) => {
      if (a.status !== 200) throw new Error(`RTSP ${step} failed: ${a.status} ${a.body.trim()}`)
      return a
    }
    this.session = undefined
    ok("OPTIONS", await this.options())
    const describe = ok("DESCRIBE", await this.describe())
    const audio = ok("SETUP streamid=audio", await this.setup("streamid=audio/0/0"))
    if (this.session === undefined) throw new Error("SETUP streamid=audio answered without a Session")
    const video = ok("SETUP streamid=video", await this.setup("streamid=video/0/0"))
    const control = ok("SETUP streamid=control", await this.setup("streamid=control/13/0"))
    const announce = ok("ANNOUNCE", await this.announce(sdp))
    const play = ok("PLAY", await this.play())
    const ping = (a: RtspAnswer) => {
      const p = a.header("X-SS-Ping-Payload")
      return p !== undefined && p.length === 16 ? p : undefined
    }
    const connect = control.header("X-SS-Connect-Data")
    return {
      describe,
      session: this.session,
      audioPort: serverPortOf(audio),
      videoPort: serverPortOf(video),
      controlPort: serverPortOf(control),
      audioPingPayload: ping(audio),
      videoPingPayload: ping(video),
      connectData: connect === undefined ? 0 : strtoul0(connect),
      announce,
      play
    }
  }
}
