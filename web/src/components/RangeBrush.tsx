/**
 * Selecting a time range: drag across the overview strip (or type the bounds), and the charts
 * zoom and the summary follows the selection.
 *
 * Why a separate strip and not a drag on the charts: Nivo's slice layer owns the pointer on the
 * charts for the crosshair tooltips, and one shared strip keeps every chart on the same range.
 * The strip draws its sparkline in a stretched viewBox, so it needs no measured width; the
 * pointer position is read from the element's box at the moment of the drag.
 */
import type { PointerEvent } from "react"
import { useMemo, useRef, useState } from "react"

export interface Range {
  readonly from: number
  readonly to: number
}

export interface RangeBrushProps {
  /** Full extent, seconds. */
  readonly extent: Range
  /** (x seconds, y) pairs for the sparkline. */
  readonly outline: ReadonlyArray<readonly [number, number]>
  readonly value: Range | null
  readonly onChange: (range: Range | null) => void
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v))

/**
 * A bound typed in seconds, applied on Enter or when the field loses focus — applying on every
 * keystroke would re-range the charts (and reformat the field) half-way through typing "120".
 */
const SecondsField = ({ label, text, value, onCommit }: { label: string; text: string; value: number; onCommit: (v: number) => void }) => {
  const [draft, setDraft] = useState<string | null>(null)
  const commit = () => {
    if (draft === null) return
    const v = Number(draft)
    setDraft(null)
    if (draft.trim() !== "" && Number.isFinite(v)) onCommit(v)
  }
  return (
    <label>
      {text}{" "}
      <input
        type="text"
        inputMode="decimal"
        aria-label={label}
        value={draft ?? value.toFixed(1)}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit()
          if (e.key === "Escape") setDraft(null)
        }}
      />
    </label>
  )
}

export const RangeBrush = ({ extent, outline, value, onChange }: RangeBrushProps) => {
  const ref = useRef<HTMLDivElement>(null)
  const [drag, setDrag] = useState<{ anchor: number; current: number } | null>(null)
  const span = Math.max(extent.to - extent.from, 1e-9)
  const toFraction = (x: number) => (x - extent.from) / span
  const atPointer = (event: PointerEvent<HTMLDivElement>) => {
    const box = ref.current?.getBoundingClientRect()
    if (box === undefined || box.width <= 0) return extent.from
    return extent.from + clamp((event.clientX - box.left) / box.width, 0, 1) * span
  }
  const path = useMemo(() => {
    // Scaled between its own min and max: the strip is for finding the interesting stretch, and
    // a 10% wobble on a 4 ms total would be a flat line on a zero-based scale.
    let min = Number.POSITIVE_INFINITY
    let max = Number.NEGATIVE_INFINITY
    for (const [, y] of outline) {
      if (y < min) min = y
      if (y > max) max = y
    }
    const span = max > min ? max - min : 1
    return outline
      .map(([x, y], k) => `${k === 0 ? "M" : "L"}${(toFraction(x) * 1000).toFixed(1)},${(92 - ((y - min) / span) * 84).toFixed(1)}`)
      .join("")
  }, [outline, extent.from, extent.to])
  const shown = drag === null ? value : { from: Math.min(drag.anchor, drag.current), to: Math.max(drag.anchor, drag.current) }
  return (
    <div className="brush">
      <div
        ref={ref}
        className="brush-strip"
        data-testid="range-brush"
        role="group"
        aria-label="select a time range: drag across the strip; arrow keys move the selection, Escape clears it"
        tabIndex={0}
        onKeyDown={(e) => {
          if (e.key === "Escape") return onChange(null)
          if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return
          e.preventDefault()
          // Move the selection (or a tenth-wide one from the start) by a twentieth of the capture.
          const current = value ?? { from: extent.from, to: extent.from + span / 10 }
          const width = current.to - current.from
          const step = (e.key === "ArrowLeft" ? -span : span) / 20
          const from = clamp(current.from + step, extent.from, extent.to - width)
          onChange({ from, to: from + width })
        }}
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture?.(e.pointerId)
          const x = atPointer(e)
          setDrag({ anchor: x, current: x })
        }}
        onPointerMove={(e) => {
          if (drag !== null) setDrag({ anchor: drag.anchor, current: atPointer(e) })
        }}
        onPointerUp={(e) => {
          if (drag === null) return
          const x = atPointer(e)
          const from = Math.min(drag.anchor, x)
          const to = Math.max(drag.anchor, x)
          setDrag(null)
          // A click without a drag clears the selection.
          onChange(to - from < span / 500 ? null : { from, to })
        }}
      >
        <svg viewBox="0 0 1000 100" preserveAspectRatio="none" aria-hidden="true">
          <path d={path} fill="none" stroke="#888" strokeWidth={1} vectorEffect="non-scaling-stroke" />
        </svg>
        {shown !== null ? (
          <div
            className="brush-selection"
            style={{ left: `${toFraction(shown.from) * 100}%`, width: `${(toFraction(shown.to) - toFraction(shown.from)) * 100}%` }}
          />
        ) : null}
      </div>
      <div className="brush-inputs">
        <SecondsField
          label="range from (s)"
          text="from"
          value={value?.from ?? extent.from}
          onCommit={(from) => onChange({ from: clamp(from, extent.from, extent.to), to: Math.max(clamp(from, extent.from, extent.to), value?.to ?? extent.to) })}
        />{" "}
        <SecondsField
          label="range to (s)"
          text="to"
          value={value?.to ?? extent.to}
          onCommit={(to) => onChange({ from: Math.min(clamp(to, extent.from, extent.to), value?.from ?? extent.from), to: clamp(to, extent.from, extent.to) })}
        />{" "}
        <button type="button" onClick={() => onChange(null)} disabled={value === null}>
          Whole capture
        </button>
      </div>
    </div>
  )
}
