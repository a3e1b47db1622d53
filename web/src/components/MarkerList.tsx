/**
 * The capture's markers as a table — time, label, kind, session — where a click on a marker's time
 * zooms every chart to a range around it (the same range the brush would select), so "here it
 * stuttered" is one click from the windows around it.
 */
import type { Marker } from "../../../src/api/Markers.js"
import { seconds } from "../lib/format.js"
import { markerColor } from "./MarkerLines.js"
import { TableHead } from "./TableHead.js"

export interface MarkerListProps {
  readonly markers: ReadonlyArray<Marker>
  readonly onSelect: (marker: Marker) => void
}

export const MarkerList = ({ markers, onSelect }: MarkerListProps) => (
  <section className="markers" aria-label="markers" data-testid="marker-list">
    <h3>
      Markers <span className="muted small">{markers.length === 0 ? "none in this capture" : `${markers.length}, click a time to zoom there`}</span>
    </h3>
    {markers.length === 0 ? null : (
      <table className="grid compact">
        <TableHead columns={["time", "label", "kind", "session"]} />
        <tbody>
          {markers.map((m, i) => (
            <tr key={`${m.t_ms}-${m.kind}-${i}`} data-testid="marker-row" data-label={m.label}>
              <td>
                <button type="button" className="time-link" onClick={() => onSelect(m)} aria-label={`zoom to marker ${m.label}`}>
                  {seconds(m.t_ms / 1000)}
                </button>
              </td>
              <td style={{ color: markerColor(m.kind) }}>{m.label}</td>
              <td>{m.kind.replace(/_/g, " ")}</td>
              <td className="muted">{m.session_id ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </section>
)
