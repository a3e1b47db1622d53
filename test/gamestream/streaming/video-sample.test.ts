/**
 * What a GameStream session's samples claim (pure: no encoder, no socket). With a video target the
 * send counters are the video sender's and listed in `measured`; without one nothing is claimed,
 * and a window that says it has no video target never lends its numbers to the sample.
 */
import { describe, expect, it } from "vitest"
import type { NativeSessionInfo, NativeWindow } from "../../../src/native/binding.js"
import { nativeMeta, nativeSample } from "../../../src/streams/NativeSample.js"
import type { SessionConfig } from "../../../src/streams/Pipeline.js"
import { baseConfig } from "../../streaming/nativeSupport.js"

const info: NativeSessionInfo = { encoder_backend: "libx264", note: "", gpu: "none", priority: "normal", priority_note: "", stages: ["capture", "encode", "packetize", "send"] }

const window = (overrides: Partial<NativeWindow>): NativeWindow => ({
  index: 0,
  t_ms: 1000,
  duration_ms: 1000,
  frames: 30,
  repeats: 0,
  encoded: 30,
  measured_frames: 30,
  frames_dropped: 0,
  overflow: 0,
  bytes: 100_000,
  stages: info.stages.map((name) => ({ name, p50_us: 10, p99_us: 20, max_us: 30, mean_us: 12 })),
  host_p50_us: 100,
  host_p99_us: 200,
  realtime: false,
  sending: true,
  send_dropped: 3,
  fec_us: 40,
  seal_us: 0,
  sock_us: 25,
  frames_unsent: 0,
  windows_dropped: 0,
  ...overrides
})

const withVideo: SessionConfig = baseConfig({
  kind: "gamestream",
  gamestream: { videoFd: 3, clientHost: "127.0.0.1", pingPayload: "", packetSize: 1024, fecPercent: 20, minRequiredFecPackets: 2 }
})
const withoutVideo: SessionConfig = baseConfig({ kind: "gamestream" })

describe("GameStream video samples", () => {
  it("with a video target: send_dropped, fec_us and sock_us are measured, seal_us is not", () => {
    const meta = nativeMeta("s", withVideo, info)
    expect(meta.measured).toEqual(expect.arrayContaining(["send_dropped", "fec_us", "sock_us"]))
    expect(meta.measured).not.toContain("seal_us")
    const s = nativeSample(meta, withVideo, window({}))
    expect(s.send_dropped).toBe(3)
    expect(s.fec_us).toBe(40)
    expect(s.sock_us).toBe(25)
    expect(s.seal_us).toBeUndefined()
    expect(s.stages.find((x) => x.name === "packetize")?.p50_us).toBe(10)
  })

  it("with encrypted video: seal_us is measured and carried too", () => {
    const sealed: SessionConfig = { ...withVideo, gamestream: { ...withVideo.gamestream!, keyHex: "00".repeat(16) } }
    const meta = nativeMeta("s", sealed, info)
    expect(meta.measured).toEqual(expect.arrayContaining(["send_dropped", "fec_us", "seal_us", "sock_us"]))
    const s = nativeSample(meta, sealed, window({ seal_us: 17 }))
    expect([s.fec_us, s.seal_us, s.sock_us]).toEqual([40, 17, 25])
  })

  it("without one: nothing of the send path is claimed", () => {
    const meta = nativeMeta("s", withoutVideo, info)
    expect(meta.measured).not.toContain("send_dropped")
    expect(meta.measured).not.toContain("fec_us")
    const s = nativeSample(meta, withoutVideo, window({ sending: false }))
    expect(s.send_dropped).toBe(0)
    expect(s.fec_us).toBeUndefined()
    expect(s.sock_us).toBeUndefined()
  })
})
