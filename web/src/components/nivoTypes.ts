/** The props Nivo hands a custom SVG layer, named once for our layers. */
import type { LineCustomSvgLayerProps, LineSeries } from "@nivo/line"

export type CustomLayerProps<S extends LineSeries> = LineCustomSvgLayerProps<S>
