/**
 * Markers: labelled instants on a capture's timeline. The operator adds them (console button,
 * `punktfunk stats mark LABEL`, `POST /api/v1/stats/markers`) to say "here it stuttered"; the host
 * adds its own where something happened that explains a change in the graphs — a session started
 * or ended, a client connected or came back, a key frame was asked for, the bitrate moved, the
 * encoder or the capture source restarted, the capture stopped appending.
 *
 * Why markers live in the capture file and not beside it: they are small (a label and a time),
 * and a capture exported and opened elsewhere must still say where the operator saw the stutter.
 * Why `t_ms` is the Recorder's clock (ms since arming): it is the samples' clock, so a marker
 * lines up with the windows on every chart.
 */
import { Schema } from "effect"

export const MarkerKind = Schema.Literal(
  "operator",
  "session_start",
  "session_end",
  "client_connect",
  "client_reconnect",
  "idr_request",
  "bitrate_change",
  "encoder_restart",
  "source_lost",
  "source_back",
  "truncated"
)
export type MarkerKind = typeof MarkerKind.Type

export const MARKER_LABEL_MAX = 200

export const Marker = Schema.Struct({
  t_ms: Schema.Number.pipe(Schema.finite(), Schema.nonNegative()),
  label: Schema.String.pipe(Schema.maxLength(MARKER_LABEL_MAX)),
  kind: MarkerKind,
  session_id: Schema.optional(Schema.String)
})
export type Marker = typeof Marker.Type

/** What the operator sends: a label of 1 to 200 characters that is not only blanks. */
export const MarkerRequest = Schema.Struct({
  label: Schema.String.pipe(
    Schema.maxLength(MARKER_LABEL_MAX, { message: () => `a marker's label is at most ${MARKER_LABEL_MAX} characters` }),
    Schema.filter((s) => s.trim().length > 0, { message: () => "a marker needs a label" })
  )
})
export type MarkerRequest = typeof MarkerRequest.Type
