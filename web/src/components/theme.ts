/** Colours and the Nivo theme shared by every chart, so a stage has one colour everywhere. */
import type { PartialTheme } from "@nivo/theming"

export const STAGE_COLORS: Record<string, string> = {
  capture: "#4e79a7",
  submit: "#59a14f",
  encode: "#f28e2b",
  packetize: "#b07aa1",
  send: "#76b7b2"
}

export const SERIES_COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"]

export const BUDGET_COLOR = "#e15759"
export const HOST_COLOR = "#f5f5f5"

export const chartTheme: PartialTheme = {
  background: "transparent",
  text: { fill: "#c8c8c8", fontSize: 11 },
  axis: {
    domain: { line: { stroke: "#555", strokeWidth: 1 } },
    ticks: { line: { stroke: "#555", strokeWidth: 1 }, text: { fill: "#bbb", fontSize: 11 } },
    legend: { text: { fill: "#ddd", fontSize: 12 } }
  },
  grid: { line: { stroke: "#2c2c2c", strokeWidth: 1 } },
  crosshair: { line: { stroke: "#eee", strokeWidth: 1, strokeOpacity: 0.6 } },
  tooltip: { container: { background: "#1d1d1d", color: "#eee", fontSize: 12, borderRadius: 4 } }
}
