/**
 * Which frame producer the host runs: the native addon for real capture sources (and for
 * `none`, where only the control plane's client sessions encode), the fake one
 * (`PUNKTFUNK_SOURCE=fake`, tests and demos of the console) otherwise.
 *
 * The pipeline and the armed flag are chosen together: the native frame loops read the addon's
 * atomic, the fake pipeline reads the in-memory flag; mixing them would arm nothing.
 */
import { Effect, Layer } from "effect"
import { ArmedFlag } from "./services/ArmedFlag.js"
import type { HostConfigShape } from "./services/Config.js"
import { FakePipeline } from "./streams/FakePipeline.js"
import { NativeArmedFlag } from "./streams/NativeArmedFlag.js"
import { NativePipeline } from "./streams/NativePipeline.js"
import type { NativeExtras } from "./streams/NativePipeline.js"
import type { Pipeline } from "./streams/Pipeline.js"

export const fakePipelineLayer = (windowMs: number): Layer.Layer<Pipeline | ArmedFlag> =>
  FakePipeline({ windowMs }).pipe(Layer.provideMerge(ArmedFlag.memory))

export const nativePipelineLayer = (extras: NativeExtras = {}): Layer.Layer<Pipeline | ArmedFlag> =>
  Layer.merge(NativePipeline(extras), NativeArmedFlag)

export const pipelineFor = (config: HostConfigShape): Effect.Effect<Layer.Layer<Pipeline | ArmedFlag>> =>
  Effect.succeed(config.source === "fake" ? fakePipelineLayer(config.fakeWindowMs) : nativePipelineLayer())
