/**
 * Refusals before any thread starts: each bad configuration is a `PipelineConfigError` whose
 * message names the problem, and the live frame-loop count does not move. Encoder selection:
 * NVENC cannot open on a machine without an NVIDIA GPU (this CI machine) and says what it
 * tried; `auto` plans NVENC first only when a GPU is present and otherwise — or when NVENC
 * fails — runs libx264 and says so in the meta.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { isConfigError, nativeModule } from "../../src/native/binding.js"
import type { NativeOptions } from "../../src/native/binding.js"
import { openNative, optionsOf } from "../../src/streams/NativePipeline.js"
import type { SessionConfig } from "../../src/streams/Pipeline.js"
import { baseConfig, takeWindows } from "./nativeSupport.js"

const refusal = (config: SessionConfig) =>
  Effect.gen(function* () {
    const before = nativeModule().activeThreads()
    const exit = yield* Effect.scoped(openNative(config)).pipe(Effect.exit)
    expect(nativeModule().activeThreads()).toBe(before)
    if (Exit.isSuccess(exit)) throw new Error("the session opened")
    const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
    expect(failure?._tag).toBe("PipelineConfigError")
    return failure?.message ?? ""
  })

describe("bad configuration is refused before any thread starts", () => {
  const cases: ReadonlyArray<readonly [string, Partial<SessionConfig>, RegExp]> = [
    ["odd width", { width: 1281 }, /1281x240 must be even/],
    ["zero width", { width: 0 }, /0x240 must be positive/],
    ["0 fps", { fps: 0 }, /frame rate 0/],
    ["16k", { width: 15360, height: 8640 }, /15360x8640 exceeds 8K/],
    ["encoder for the wrong codec", { codec: "hevc", encoder: "libx264" }, /libx264 does not produce hevc/],
    ["absent X display", { source: "x11", display: ":87" }, /cannot open X display ':87'/],
    ["x11 without a display", { source: "x11" }, /needs a display/]
  ]
  for (const [name, overrides, message] of cases) {
    it.live(name, () =>
      Effect.gen(function* () {
        expect(yield* refusal(baseConfig(overrides))).toMatch(message)
      })
    )
  }

  it.live("an unknown encoder (a config that skipped the type checker)", () =>
    Effect.gen(function* () {
      const config = JSON.parse(JSON.stringify({ ...baseConfig(), encoder: "x264-turbo" })) as SessionConfig
      expect(yield* refusal(config)).toMatch(/x264-turbo/)
    })
  )

  it.live("an unknown preset names the encoder and the preset", () =>
    Effect.gen(function* () {
      expect(yield* refusal(baseConfig({ preset: "warp9" }))).toMatch(/tried libx264 failed: .*warp9/)
    })
  )
})

describe("the path's stages come from TypeScript, checked by the addon", () => {
  const addonRefusal = (stages: ReadonlyArray<string>) => {
    const before = nativeModule().activeThreads()
    const options = { ...optionsOf(baseConfig(), {}), stages } as unknown as NativeOptions
    let thrown: unknown
    try {
      new (nativeModule().NativeSession)(options, () => undefined).close()
    } catch (e) {
      thrown = e
    }
    expect(nativeModule().activeThreads()).toBe(before)
    expect(isConfigError(thrown)).toBe(true)
    return thrown instanceof Error ? thrown.message : ""
  }
  it("an unknown stage, stages out of the frame's order, none or too many are refused by name", () => {
    expect(addonRefusal(["capture", "warp", "send"])).toMatch(/unknown stage 'warp'/)
    expect(addonRefusal(["capture", "send", "encode"])).toMatch(/stage 'encode' comes before 'send'/)
    expect(addonRefusal([])).toMatch(/1 to 4 stages, not 0/)
    expect(addonRefusal(["capture", "submit", "encode", "packetize", "send"])).toMatch(/1 to 4 stages, not 5/)
  })

  it.live("a GameStream video target needs a path with a packetize stage", () =>
    Effect.gen(function* () {
      const config = baseConfig({
        kind: "punktfunk1",
        gamestream: { videoFd: 0, clientHost: "127.0.0.1", pingPayload: "", packetSize: 1024, fecPercent: 20, minRequiredFecPackets: 2 }
      })
      expect(yield* refusal(config)).toMatch(/needs a path with a packetize stage/)
    })
  )
})

describe("encoder selection", () => {
  it("auto plans NVENC first only with an NVIDIA GPU", () => {
    const addon = nativeModule()
    expect(addon.planEncoders("h264", "auto", true)).toEqual(["h264_nvenc", "libx264"])
    expect(addon.planEncoders("hevc", "auto", true)).toEqual(["hevc_nvenc", "libx265"])
    expect(addon.planEncoders("h264", "auto", false)).toEqual(["libx264"])
    expect(addon.planEncoders("h264", "h264_nvenc", false)).toEqual(["h264_nvenc"])
  })

  it.live.skipIf(nativeModule().nvidiaGpuPresent())("NVENC requested without a GPU: a clear error naming what it tried", () =>
    Effect.gen(function* () {
      const message = yield* refusal(baseConfig({ encoder: "h264_nvenc" }))
      expect(message).toMatch(/no encoder could open for h264 \(tried h264_nvenc failed: .+\)/)
    })
  )

  it.live.skipIf(nativeModule().nvidiaGpuPresent())("auto without a GPU runs libx264 and says so", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { meta, windows } = yield* openNative(baseConfig({ encoder: "auto" }), { window_ms: 500 })
        expect(meta.encoder_backend).toBe("libx264")
        expect(meta.gpu).toBe("none")
        yield* takeWindows(windows, 1)
      })
    )
  )

  it.live.skipIf(nativeModule().nvidiaGpuPresent())("auto whose NVENC attempt fails falls back to libx264", () =>
    Effect.scoped(
      Effect.gen(function* () {
        // assume_gpu: take the GPU branch of the plan; h264_nvenc then fails to open for real.
        const { meta, windows } = yield* openNative(baseConfig({ encoder: "auto" }), { window_ms: 500, assume_gpu: true })
        expect(meta.encoder_backend).toBe("libx264")
        yield* takeWindows(windows, 1)
      })
    )
  )
})
