/**
 * A chart's container: a fixed height, and the chart mounted only on the client after the box has
 * measured a real width.
 *
 * Why not Nivo's `Responsive*` wrappers: they draw nothing in a parent measured at 0 and re-measure
 * on their own schedule; measuring here with a ResizeObserver and handing an explicit width to
 * the plain chart means the first render (width 0, e.g. a hidden tab or jsdom) renders an empty
 * box instead of a broken chart, and the chart appears as soon as the box has a size. The fixed
 * height is what gives the chart something to draw in at all.
 */
import type { ReactNode } from "react"
import { useEffect, useRef, useState } from "react"

export interface ChartBoxProps {
  readonly height: number
  readonly label: string
  readonly testId?: string
  /** Fixed width for tests (jsdom has no layout); in a browser the box measures itself. */
  readonly width?: number
  readonly children: (width: number, height: number) => ReactNode
}

export const ChartBox = ({ height, label, testId, width: fixedWidth, children }: ChartBoxProps) => {
  const ref = useRef<HTMLDivElement>(null)
  const [width, setWidth] = useState(fixedWidth ?? 0)
  useEffect(() => {
    if (fixedWidth !== undefined) return
    const element = ref.current
    if (element === null) return
    const measure = () => setWidth(Math.floor(element.getBoundingClientRect().width))
    measure()
    if (typeof ResizeObserver === "undefined") return
    const observer = new ResizeObserver(measure)
    observer.observe(element)
    return () => observer.disconnect()
  }, [fixedWidth])
  return (
    <figure className="chart" style={{ height }} role="figure" aria-label={label} data-testid={testId} ref={ref}>
      {width > 0 ? children(width, height) : null}
    </figure>
  )
}
