/**
 * The streaming paths as values: each path's name, what an operator calls it, its stage set and
 * the length of its aggregation window. Everything that used to ask "punktfunk/1 or GameStream?" —
 * `stagesOf`, the addon's stage names and window length, the console's and CLI's wording — reads
 * this table instead, so a third path is one more entry here plus its transport.
 *
 * Why the addon gets the stage names from here (`NativeOptions.stages`) instead of choosing them
 * itself: the frame loop takes the same timestamps for every path (deadline, pixels in memory,
 * frame submitted, bitstream in hand, packetized, sent); a stage is the span from the end of the
 * stage before it to its own boundary. Which spans a path reports is then data, not a branch in
 * C++ (see `src/native/frame_loop.cc`).
 *
 * Which counters a path measures is a column of the field table (`Fields.ts`, `measuredOn`).
 */
import { Schema } from "effect"

/** Stages of the frame's critical path, in the order a frame passes them. */
export const StageName = Schema.Literal("capture", "submit", "encode", "packetize", "send")
export type StageName = typeof StageName.Type

export interface PathDescription {
  /** What the console, the CLI and the logs call the path. */
  readonly title: string
  /** The stages this path times, in critical-path order (a subset of `StageName`, in its order). */
  readonly stages: ReadonlyArray<StageName>
  /** The addon's aggregation window for this path, ms. */
  readonly window_ms: number
}

export const PATHS = {
  punktfunk1: {
    title: "punktfunk/1",
    stages: ["capture", "submit", "encode", "send"],
    window_ms: 2000
  },
  gamestream: {
    // No submit stage: GameStream's colour conversion belongs to `encode` (DECISIONS.md).
    title: "GameStream",
    stages: ["capture", "encode", "packetize", "send"],
    window_ms: 1000
  }
} as const satisfies Record<string, PathDescription>

const PATH_NAMES = Object.keys(PATHS) as Array<keyof typeof PATHS>

/** The path a session streams on (`SessionMeta.kind`). */
export const StreamKind = Schema.Literal(...(PATH_NAMES as [keyof typeof PATHS, ...Array<keyof typeof PATHS>]))
export type StreamKind = typeof StreamKind.Type

export const pathOf = (kind: StreamKind): PathDescription => PATHS[kind]

export const stagesOf = (kind: StreamKind): ReadonlyArray<StageName> => PATHS[kind].stages
