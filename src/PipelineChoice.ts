/**
 * Which frame producer the host runs: the native addon for real capture sources, the fake one
 * (`PUNKTFUNK_SOURCE=fake`, tests and demos of the console) otherwise.
 */
import { Effect, Layer } from "effect"
import { ArmedFlag } from "./services/ArmedFlag.js"
import type { HostConfigShape } from "./services/Config.js"
import { FakePipeline } from "./streams/FakePipeline.js"
import type { Pipeline } from "./streams/Pipeline.js"

export const fakePipelineLayer = (windowMs: number): Layer.Layer<Pipeline | ArmedFlag> =>
  FakePipeline({ windowMs }).pipe(Layer.provideMerge(ArmedFlag.memory))

export const pipelineFor = (config: HostConfigShape): Effect.Effect<Layer.Layer<Pipeline | ArmedFlag>> =>
  Effect.succeed(fakePipelineLayer(config.fakeWindowMs))
