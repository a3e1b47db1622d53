/**
 * The values an operator picks for the frame pipeline (`PUNKTFUNK_SOURCE`, `PUNKTFUNK_ENCODER`,
 * `PUNKTFUNK_CODEC`, `PUNKTFUNK_FRAME_PRIORITY`): read by the configuration
 * (`services/Config.ts`), carried by a session's options (`streams/Pipeline.ts`). They live here,
 * beside the other values that cross the host's boundaries, so the configuration does not
 * import the streaming code to learn which words it accepts.
 */
import { Schema } from "effect"

export const CaptureSource = Schema.Literal("synthetic", "static", "x11")
export type CaptureSource = typeof CaptureSource.Type

export const EncoderChoice = Schema.Literal("auto", "libx264", "libx265", "h264_nvenc", "hevc_nvenc")
export type EncoderChoice = typeof EncoderChoice.Type

export const Codec = Schema.Literal("h264", "hevc")
export type Codec = typeof Codec.Type

export const FramePriority = Schema.Literal("normal", "realtime")
export type FramePriority = typeof FramePriority.Type
