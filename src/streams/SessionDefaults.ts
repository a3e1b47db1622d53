/**
 * What every streaming session takes from the host configuration, whichever path opened it:
 * the capture source, the display, the encoder and its settings, and whether to measure every
 * frame. The client decides the rest (mode, bitrate, codec); the path adds its own transport.
 *
 * Why `fake` and `none` become `synthetic` here: those two only say that the host runs no local
 * session of its own; a client that connects still needs a picture, and the synthetic pattern is
 * the one that needs nothing from the machine.
 */
import type { HostConfigShape } from "../services/Config.js"
import type { SessionConfig } from "./Pipeline.js"

export type SessionDefaults = Pick<SessionConfig, "source" | "display" | "encoder" | "preset" | "tune" | "priority" | "perf" | "measure">

export const sessionDefaultsOf = (config: HostConfigShape): SessionDefaults => ({
  source: config.source === "fake" || config.source === "none" ? "synthetic" : config.source,
  ...(config.display === undefined ? {} : { display: config.display }),
  encoder: config.encoder,
  preset: config.preset,
  tune: config.tune,
  priority: config.framePriority,
  perf: config.perf,
  // Every frame timed, armed or not, so /metrics always has latency (Pipeline.ts, `measure`).
  measure: true
})
