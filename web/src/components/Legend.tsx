/**
 * A chart legend in HTML above the chart. Why not Nivo's legend: its items have a fixed width, so
 * long names (a compare view's recording labels) overlap; HTML wraps.
 */
export interface LegendItem {
  readonly id: string
  readonly color: string
  readonly dashed?: boolean
}

export const Legend = ({ items }: { items: ReadonlyArray<LegendItem> }) => (
  <ul className="legend">
    {items.map((item) => (
      <li key={item.id}>
        <span className={`swatch${item.dashed === true ? " dashed" : ""}`} style={{ borderColor: item.color, background: item.dashed === true ? "transparent" : item.color }} />
        {item.id}
      </li>
    ))}
  </ul>
)
