/**
 * One description of each field of a stats sample: the single table that the Schemas
 * (`Stats.ts`), the summary (`Summary.ts`), CSV (`Csv.ts`), `/metrics` (`services/Metrics.ts`,
 * `http/MetricsExposition.ts`), the CLI (`cli/Format.ts`), the console's tables and charts
 * (`web/`), the addon's window-to-sample mapping (`streams/NativeSample.ts`), the session runners' `measured`
 * and the test fixtures all read. A counter the addon already emits reaches all of them by one
 * new row here; `test/fields.test.ts` walks the table and checks that every consumer shows every
 * field.
 *
 * Columns:
 * - `label`, `unit`, `meaning`: what the field is, in the stored unit.
 * - `group`: how it is summarised and shown — `counter` (per-window deltas: total, Prometheus
 *   `_total`), `rate` (a per-window value: distribution), `target` (the setting a rate is held
 *   against), `host` (the measured host total, shown beside the stages), `split` (the addon's send
 *   split, mean µs per frame).
 * - `wire`: `required` since the first capture format; `when_measured`: present only where measured
 *   (the split); `added`: added after captures existed — a capture written before it lacks the key
 *   and decodes it as 0, and, absent from that capture's `measured`, shows it as "not measured".
 *   Every new row is `added`.
 * - `source` and `measuredOn`: who fills it (`pipeline`: the frame loop, addon or fake;
 *   `control`: the session's control plane — client reports, host-timed pings) and on which path
 *   under which condition it is a real measurement (`always`; `sending`: the session sends to a
 *   client; `sealed`: what it sends is encrypted; `client_fec_status`: the client reports FEC
 *   repairs). A field not measured is 0 (or absent) and left out of `measured`: never "no loss".
 * - `loss`: it counts something lost on the way to the viewer (budget breaches sum these).
 * - `addon`: the key of the addon's window object the value is copied from as is, for fields that
 *   need no arithmetic (`NativeSample.ts` checks at compile time that the key exists).
 * - `show`, `summary`, `compare`: display unit and scale for tables and charts, the summary row's
 *   form, the compare view's rows.
 * - `prometheus`: family name, HELP, type, conversion to base units, labels telling rows of one
 *   family apart, and `timed` (only for windows whose frames were timed); gauges are the session's
 *   last window, counters are summed per path from the window deltas.
 * - `chart`: which chart of a recording's detail view draws it (see `CHART_GROUPS`).
 */
import { Schema } from "effect"
import type { StreamKind } from "./Paths.js"

const NonNegative = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())
const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

/** When a path's session really measures a field (see the header). */
export type Condition = "always" | "sending" | "sealed" | "client_fec_status" | "client_e2e"

/** What a session is, as far as `Condition` asks. */
export interface SessionFacts {
  readonly sending: boolean
  readonly sealed: boolean
  readonly client_fec_status: boolean
  /** The client measures capture→decoded latency on the host's clock (it said so in its Hello). */
  readonly client_e2e: boolean
}

export type FieldGroup = "rate" | "target" | "host" | "counter" | "split"
export type ChartGroup = "fps" | "mbps" | "host" | "e2e" | "health" | "rtt" | "split"
/** A summary statistic: of a distribution over windows, or a counter's total. */
export type Stat = "mean" | "p1" | "p50" | "p99" | "max" | "total"

export interface FieldSpec {
  readonly label: string
  readonly unit: string
  readonly group: FieldGroup
  readonly meaning: string
  readonly integer: boolean
  readonly wire: "required" | "when_measured" | "added"
  readonly source: "pipeline" | "control"
  readonly addon?: string
  readonly measuredOn: Partial<Record<StreamKind, Condition>>
  /** It counts something lost on the way to the viewer (a `drops` budget breach, `Breaches.ts`). */
  readonly loss?: true
  /** Tables and charts: the stored value × `scale`, in `unit`, with `digits` decimals. */
  readonly show: { readonly unit: string; readonly scale: number; readonly digits: number }
  /**
   * The summary row: `mean_low` mean and 1% low; `mean`; `vs_target` mean against the target
   * field named by `target`; `spread` mean / p50 / p99 / max; `total`; `in_stages` in the stage
   * table (host total); `with` shown in another field's row (a target).
   */
  readonly summary: "mean_low" | "mean" | "vs_target" | "spread" | "total" | "in_stages" | "with"
  readonly target?: string
  readonly compare: ReadonlyArray<{ readonly label: string; readonly stat: Stat; readonly better: "higher" | "lower" }>
  readonly prometheus: {
    readonly name: string
    readonly help: string
    readonly type: "gauge" | "counter"
    /** Stored value → the family's base unit. */
    readonly toBase: (value: number) => number
    /** Extra labels telling this field from others of the same family. */
    readonly labels?: ReadonlyArray<readonly [string, string]>
    /** Only for windows whose frames were timed (stage timings present): never a 0 for "untimed". */
    readonly timed?: true
  }
  readonly chart: { readonly group: ChartGroup; readonly label: string; readonly dashed?: boolean; readonly color?: string }
}

/** Microseconds to seconds by division: `418 / 1e6` prints 0.000418, `418 * 1e-6` does not. */
const seconds = (us: number): number => us / 1e6
const asIs = (v: number): number => v
const counterHelp = (what: string): string => `${what} (summed from window deltas; only paths that measure it).`
const HOST_HELP = "Host latency from frame deadline to last datagram out, last timed window, by percentile (p50, p99)."
const SPLIT_HELP = "Send split per frame in the addon's sender (mean over the last window), by part: fec, seal, sock."
const BOTH_ALWAYS = { punktfunk1: "always", gamestream: "always" } as const
const E2E_HELP = "Capture-to-decoded latency on the client, on the host's clock, last window, by percentile (p50, p99); punktfunk/1 clients that measure it."

export const FIELDS = {
  fps: {
    label: "fps",
    unit: "frames/s",
    group: "rate",
    meaning: "Frames served per second in the window: new pictures and repeats of an unchanged one (the frame clock's ticks served).",
    integer: false,
    wire: "required",
    source: "pipeline",
    measuredOn: BOTH_ALWAYS,
    show: { unit: "fps", scale: 1, digits: 1 },
    summary: "mean_low",
    compare: [
      { label: "fps (mean)", stat: "mean", better: "higher" },
      { label: "fps 1% low", stat: "p1", better: "higher" }
    ],
    prometheus: { name: "punktfunk_frames_per_second", help: "Frames per second the session served in its last window (new pictures and repeats of an unchanged one).", type: "gauge", toBase: asIs },
    chart: { group: "fps", label: "fps" }
  },
  repeat_fps: {
    label: "repeat fps",
    unit: "frames/s",
    group: "rate",
    meaning: "Frames per second re-sent because the source had nothing new.",
    integer: false,
    wire: "required",
    source: "pipeline",
    measuredOn: BOTH_ALWAYS,
    show: { unit: "fps", scale: 1, digits: 2 },
    summary: "mean",
    compare: [{ label: "repeat fps (mean)", stat: "mean", better: "lower" }],
    prometheus: { name: "punktfunk_repeat_frames_per_second", help: "Repeated (unchanged) frames per second in the session's last window.", type: "gauge", toBase: asIs },
    chart: { group: "fps", label: "repeat fps", color: "#edc948" }
  },
  mbps: {
    label: "bitrate",
    unit: "Mb/s",
    group: "rate",
    meaning: "Video megabits per second sent in the window.",
    integer: false,
    wire: "required",
    source: "pipeline",
    measuredOn: BOTH_ALWAYS,
    show: { unit: "Mb/s", scale: 1, digits: 2 },
    summary: "vs_target",
    target: "bitrate_kbps",
    compare: [{ label: "Mb/s (mean)", stat: "mean", better: "higher" }],
    prometheus: { name: "punktfunk_stream_bits_per_second", help: "Video bits per second sent in the session's last window.", type: "gauge", toBase: (mbps) => mbps * 1e6 },
    chart: { group: "mbps", label: "Mb/s" }
  },
  bitrate_kbps: {
    label: "target bitrate",
    unit: "kb/s",
    group: "target",
    meaning: "The encoder's bitrate target during the window (a client may change it).",
    integer: false,
    wire: "required",
    source: "pipeline",
    measuredOn: BOTH_ALWAYS,
    show: { unit: "Mb/s", scale: 1 / 1000, digits: 2 },
    summary: "with",
    compare: [{ label: "target Mb/s (mean)", stat: "mean", better: "higher" }],
    prometheus: { name: "punktfunk_target_bits_per_second", help: "The session's target video bitrate.", type: "gauge", toBase: (kbps) => kbps * 1e3 },
    chart: { group: "mbps", label: "target Mb/s", dashed: true, color: "#888" }
  },
  frames_dropped: {
    label: "frames dropped",
    unit: "frames",
    group: "counter",
    meaning: "Frame-clock deadlines the host's frame loop missed because it ran late (no frame was made for them).",
    integer: true,
    wire: "required",
    source: "pipeline",
    addon: "frames_dropped",
    measuredOn: BOTH_ALWAYS,
    loss: true,
    show: { unit: "", scale: 1, digits: 0 },
    summary: "total",
    compare: [{ label: "frames dropped", stat: "total", better: "lower" }],
    prometheus: { name: "punktfunk_frames_dropped_total", help: counterHelp("Frame deadlines the host missed"), type: "counter", toBase: asIs },
    chart: { group: "health", label: "frames dropped" }
  },
  client_frames_dropped: {
    label: "client frames dropped",
    unit: "frames",
    group: "counter",
    meaning: "Frames the client's receiver gave up on (never completed: more shards lost than parity could rebuild), from its receiver reports.",
    integer: true,
    wire: "added",
    source: "control",
    measuredOn: { punktfunk1: "sending" },
    loss: true,
    show: { unit: "", scale: 1, digits: 0 },
    summary: "total",
    compare: [{ label: "client frames dropped", stat: "total", better: "lower" }],
    prometheus: { name: "punktfunk_client_frames_dropped_total", help: counterHelp("Frames the client never completed"), type: "counter", toBase: asIs },
    chart: { group: "health", label: "client frames dropped" }
  },
  packets_dropped: {
    label: "packets dropped",
    unit: "packets",
    group: "counter",
    meaning: "Packets lost on the way to the client, from its reports.",
    integer: true,
    wire: "required",
    source: "control",
    measuredOn: { punktfunk1: "sending", gamestream: "sending" },
    loss: true,
    show: { unit: "", scale: 1, digits: 0 },
    summary: "total",
    compare: [{ label: "packets dropped", stat: "total", better: "lower" }],
    prometheus: { name: "punktfunk_packets_dropped_total", help: counterHelp("Packets lost on the way to the client"), type: "counter", toBase: asIs },
    chart: { group: "health", label: "packets dropped" }
  },
  send_dropped: {
    label: "send dropped",
    unit: "packets",
    group: "counter",
    meaning: "Packets the host's sender dropped (ring full, EAGAIN, ENOBUFS).",
    integer: true,
    wire: "required",
    source: "pipeline",
    addon: "send_dropped",
    measuredOn: { punktfunk1: "sending", gamestream: "sending" },
    loss: true,
    show: { unit: "", scale: 1, digits: 0 },
    summary: "total",
    compare: [{ label: "send dropped", stat: "total", better: "lower" }],
    prometheus: { name: "punktfunk_send_dropped_total", help: counterHelp("Packets the host's sender dropped"), type: "counter", toBase: asIs },
    chart: { group: "health", label: "send dropped" }
  },
  fec_recovered: {
    label: "fec recovered",
    unit: "shards",
    group: "counter",
    meaning: "Shards or packets the client repaired from parity, from its reports.",
    integer: true,
    wire: "required",
    source: "control",
    measuredOn: { punktfunk1: "sending", gamestream: "client_fec_status" },
    show: { unit: "", scale: 1, digits: 0 },
    summary: "total",
    compare: [{ label: "FEC recovered", stat: "total", better: "lower" }],
    prometheus: { name: "punktfunk_fec_recovered_total", help: counterHelp("Shards or packets repaired by FEC"), type: "counter", toBase: asIs },
    chart: { group: "health", label: "fec recovered" }
  },
  windows_dropped: {
    label: "windows dropped",
    unit: "windows",
    group: "counter",
    meaning: "Aggregation windows the addon could not hand to the host's runtime (its queue was full), counted on the next window that got through.",
    integer: true,
    wire: "added",
    source: "pipeline",
    addon: "windows_dropped",
    measuredOn: BOTH_ALWAYS,
    show: { unit: "", scale: 1, digits: 0 },
    summary: "total",
    compare: [{ label: "windows dropped", stat: "total", better: "lower" }],
    prometheus: { name: "punktfunk_windows_dropped_total", help: counterHelp("Stats windows the addon could not hand over"), type: "counter", toBase: asIs },
    chart: { group: "health", label: "windows dropped" }
  },
  rtt_us: {
    label: "rtt",
    unit: "µs",
    group: "rate",
    meaning: "Round-trip time to the client, median of the window, timed by the host's own pings.",
    integer: false,
    wire: "required",
    source: "control",
    measuredOn: { punktfunk1: "always" },
    show: { unit: "ms", scale: 1 / 1000, digits: 2 },
    summary: "spread",
    compare: [{ label: "RTT p50", stat: "p50", better: "lower" }],
    prometheus: { name: "punktfunk_rtt_seconds", help: "Round-trip time to the client, median of the session's last window.", type: "gauge", toBase: seconds },
    chart: { group: "rtt", label: "RTT" }
  },
  host_p50_us: {
    label: "host total p50",
    unit: "µs",
    group: "host",
    meaning: "Median of the window's frames, from frame deadline to last datagram out (measured, not summed).",
    integer: false,
    wire: "required",
    source: "pipeline",
    addon: "host_p50_us",
    measuredOn: BOTH_ALWAYS,
    show: { unit: "ms", scale: 1 / 1000, digits: 2 },
    summary: "in_stages",
    compare: [{ label: "host total p50", stat: "p50", better: "lower" }],
    prometheus: { name: "punktfunk_host_latency_seconds", help: HOST_HELP, type: "gauge", toBase: seconds, labels: [["percentile", "p50"]], timed: true },
    chart: { group: "host", label: "host total p50" }
  },
  host_p99_us: {
    label: "host total p99",
    unit: "µs",
    group: "host",
    meaning: "99th percentile of the window's frames, from frame deadline to last datagram out.",
    integer: false,
    wire: "required",
    source: "pipeline",
    addon: "host_p99_us",
    measuredOn: BOTH_ALWAYS,
    show: { unit: "ms", scale: 1 / 1000, digits: 2 },
    summary: "in_stages",
    compare: [{ label: "host total p99", stat: "p99", better: "lower" }],
    prometheus: { name: "punktfunk_host_latency_seconds", help: HOST_HELP, type: "gauge", toBase: seconds, labels: [["percentile", "p99"]], timed: true },
    chart: { group: "host", label: "host total p99" }
  },
  e2e_p50_us: {
    label: "end-to-end p50",
    unit: "µs",
    group: "rate",
    meaning: "Capture→decoded latency of the window's frames on the client, on the host's clock (the client subtracts its NTP-style estimate of the clocks' offset), median of its reports.",
    integer: false,
    wire: "when_measured",
    source: "control",
    measuredOn: { punktfunk1: "client_e2e" },
    show: { unit: "ms", scale: 1 / 1000, digits: 2 },
    summary: "spread",
    compare: [{ label: "end-to-end p50", stat: "p50", better: "lower" }],
    prometheus: { name: "punktfunk_end_to_end_latency_seconds", help: E2E_HELP, type: "gauge", toBase: seconds, labels: [["percentile", "p50"]] },
    chart: { group: "e2e", label: "end-to-end p50" }
  },
  e2e_p99_us: {
    label: "end-to-end p99",
    unit: "µs",
    group: "rate",
    meaning: "Capture→decoded latency of the window's frames on the client, on the host's clock: the worst of its reports' 99th percentiles.",
    integer: false,
    wire: "when_measured",
    source: "control",
    measuredOn: { punktfunk1: "client_e2e" },
    show: { unit: "ms", scale: 1 / 1000, digits: 2 },
    summary: "spread",
    compare: [{ label: "end-to-end p99", stat: "p99", better: "lower" }],
    prometheus: { name: "punktfunk_end_to_end_latency_seconds", help: E2E_HELP, type: "gauge", toBase: seconds, labels: [["percentile", "p99"]] },
    chart: { group: "e2e", label: "end-to-end p99" }
  },
  fec_us: {
    label: "fec",
    unit: "µs",
    group: "split",
    meaning: "Parity (FEC) time per frame on the frame thread, mean over the window.",
    integer: false,
    wire: "when_measured",
    source: "pipeline",
    addon: "fec_us",
    measuredOn: { punktfunk1: "sending", gamestream: "sending" },
    show: { unit: "ms", scale: 1 / 1000, digits: 3 },
    summary: "spread",
    compare: [{ label: "fec per frame (mean)", stat: "mean", better: "lower" }],
    prometheus: { name: "punktfunk_send_split_seconds", help: SPLIT_HELP, type: "gauge", toBase: seconds, labels: [["part", "fec"]] },
    chart: { group: "split", label: "fec" }
  },
  seal_us: {
    label: "seal",
    unit: "µs",
    group: "split",
    meaning: "Sealing (AES-GCM) time per frame on the frame thread, mean over the window.",
    integer: false,
    wire: "when_measured",
    source: "pipeline",
    addon: "seal_us",
    measuredOn: { punktfunk1: "sealed", gamestream: "sealed" },
    show: { unit: "ms", scale: 1 / 1000, digits: 3 },
    summary: "spread",
    compare: [{ label: "seal per frame (mean)", stat: "mean", better: "lower" }],
    prometheus: { name: "punktfunk_send_split_seconds", help: SPLIT_HELP, type: "gauge", toBase: seconds, labels: [["part", "seal"]] },
    chart: { group: "split", label: "seal" }
  },
  sock_us: {
    label: "sock",
    unit: "µs",
    group: "split",
    meaning: "Time inside the socket calls per frame (pacer thread), mean over the window.",
    integer: false,
    wire: "when_measured",
    source: "pipeline",
    addon: "sock_us",
    measuredOn: { punktfunk1: "sending", gamestream: "sending" },
    show: { unit: "ms", scale: 1 / 1000, digits: 3 },
    summary: "spread",
    compare: [{ label: "sock per frame (mean)", stat: "mean", better: "lower" }],
    prometheus: { name: "punktfunk_send_split_seconds", help: SPLIT_HELP, type: "gauge", toBase: seconds, labels: [["part", "sock"]] },
    chart: { group: "split", label: "sock" }
  }
} as const satisfies Record<string, FieldSpec>

export type Fields = typeof FIELDS
export type FieldName = keyof Fields

/** Every field, in the table's order (CSV columns, `measured` lists, the summary's rows). */
export const FIELD_NAMES = Object.keys(FIELDS) as Array<FieldName>

export const fieldSpec = (name: FieldName): FieldSpec => FIELDS[name]

/** Fields in one group, in table order. */
export const fieldsIn = (group: FieldGroup): ReadonlyArray<FieldName> => FIELD_NAMES.filter((f) => FIELDS[f].group === group)

/** Fields that count something lost on the way to the viewer, in table order. */
export const LOSS_FIELDS: ReadonlyArray<FieldName> = FIELD_NAMES.filter((f) => fieldSpec(f).loss === true)

/** Fields summed from per-window deltas (`group: "counter"`). */
export type CounterFieldName = { [K in FieldName]: Fields[K]["group"] extends "counter" ? K : never }[FieldName]
export const COUNTER_FIELDS = fieldsIn("counter") as ReadonlyArray<CounterFieldName>

// ---- The sample's Schema fields, derived from `wire` ----

type NumberSchema = Schema.Schema<number>
type Added = Schema.optionalWith<NumberSchema, { exact: true; default: () => number }>
type SchemaOf<F extends FieldSpec> = F["wire"] extends "when_measured"
  ? Schema.optional<NumberSchema>
  : F["wire"] extends "added"
    ? Added
    : NumberSchema

export type SampleFieldSchemas = { readonly [K in FieldName]: SchemaOf<Fields[K]> }

const schemaOf = (spec: FieldSpec): SchemaOf<FieldSpec> => {
  const base: NumberSchema = spec.integer ? Count : NonNegative
  if (spec.wire === "when_measured") return Schema.optional(base) as unknown as SchemaOf<FieldSpec>
  if (spec.wire === "added") return Schema.optionalWith(base, { exact: true, default: () => 0 }) as unknown as SchemaOf<FieldSpec>
  return base
}

/** The `StatsSample` fields the table describes (`Stats.ts` adds time, session and stages). */
export const SAMPLE_FIELD_SCHEMAS = Object.fromEntries(FIELD_NAMES.map((f) => [f, schemaOf(FIELDS[f])])) as unknown as SampleFieldSchemas

/** Fields every sample carries (all but the `when_measured` ones). */
export type CarriedField = { [K in FieldName]: Fields[K]["wire"] extends "when_measured" ? never : K }[FieldName]

/**
 * Every carried field at 0: the base of a sample whose producer fills what it measures and
 * leaves the rest unmeasured. Producers and test fixtures spread it, so a new row needs no edit
 * there.
 */
export const zeroFields = (): Record<CarriedField, number> =>
  Object.fromEntries(FIELD_NAMES.filter((f) => FIELDS[f].wire !== "when_measured").map((f) => [f, 0])) as Record<CarriedField, number>

// ---- Which fields a session measures ----

/** Under which condition a session of `kind` measures `field`; undefined: never. */
export const conditionOf = (field: FieldName, kind: StreamKind): Condition | undefined =>
  (FIELDS[field].measuredOn as FieldSpec["measuredOn"])[kind]

const holds = (condition: Condition | undefined, facts: SessionFacts): boolean =>
  condition === "always" || (condition !== undefined && facts[condition])

/**
 * The fields a session of `kind` measures from `source` (the frame loop or the control plane),
 * in table order. The runners union the two sources into the session's `measured`.
 */
export const measuredFields = (kind: StreamKind, source: FieldSpec["source"], facts: SessionFacts): Array<FieldName> =>
  FIELD_NAMES.filter((f) => FIELDS[f].source === source && holds(conditionOf(f, kind), facts))

/** The union of several `measured` lists, in table order (one place decides the order). */
export const unionMeasured = (...lists: ReadonlyArray<ReadonlyArray<FieldName>>): Array<FieldName> => {
  const present = new Set<FieldName>()
  for (const list of lists) for (const f of list) present.add(f)
  return FIELD_NAMES.filter((f) => present.has(f))
}

// ---- Chart groups of a recording's detail view ----

export interface ChartGroupSpec {
  readonly title: string
  readonly unit: string
  readonly digits: number
  readonly testId: string
  readonly label: string
  /** What to do when no session measured any of its fields: a sentence, or nothing at all. */
  readonly whenNone: { readonly testId: string; readonly text: string } | "hide" | "draw"
}

export const CHART_GROUPS: Readonly<Record<Exclude<ChartGroup, "host">, ChartGroupSpec>> = {
  fps: { title: "Frames per second vs target", unit: "fps", digits: 1, testId: "fps-chart", label: "Frames per second against the target", whenNone: "draw" },
  mbps: { title: "Bitrate vs target", unit: "Mb/s", digits: 2, testId: "mbps-chart", label: "Megabits per second against the target", whenNone: "draw" },
  health: {
    title: "Health counters (per window)",
    unit: "count",
    digits: 0,
    testId: "health-chart",
    label: "Health counters per window",
    whenNone: { testId: "health-none", text: "This path measured no drop or FEC counters; nothing is drawn rather than a false \"no loss\"." }
  },
  e2e: {
    title: "End-to-end latency (capture → decoded on the client)",
    unit: "ms",
    digits: 2,
    testId: "e2e-chart",
    label: "End-to-end latency, p50 and p99",
    whenNone: { testId: "e2e-none", text: "End-to-end latency not measured in this capture: GameStream clients do not report it, nor punktfunk/1 clients that do not offer it in their Hello." }
  },
  rtt: { title: "Round-trip time", unit: "ms", digits: 2, testId: "rtt-chart", label: "Round-trip time", whenNone: { testId: "rtt-none", text: "RTT not measured on this path." } },
  split: { title: "Send split (mean µs per frame, shown in ms)", unit: "ms", digits: 3, testId: "split-chart", label: "Send split: FEC, seal, socket", whenNone: "hide" }
}

/** Fields a chart group draws, in table order. */
export const chartFields = (group: ChartGroup): ReadonlyArray<FieldName> => FIELD_NAMES.filter((f) => FIELDS[f].chart.group === group)
