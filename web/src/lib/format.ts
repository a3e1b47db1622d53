/** Number and time formatting shared by tables, tooltips and axes. */

export const ms = (us: number | null | undefined, digits = 2): string =>
  us === null || us === undefined || !Number.isFinite(us) ? "—" : (us / 1000).toFixed(digits)

export const num = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(digits)

export const duration = (millis: number): string => {
  const s = Math.round(millis / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  const pad = (n: number) => String(n).padStart(2, "0")
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`
}

export const seconds = (x: number): string =>
  x >= 120 ? `${duration(x * 1000)} (${x.toFixed(0)} s)` : (x >= 100 ? x.toFixed(0) : x.toFixed(1)) + " s"

export const dateTime = (unixMs: number): string => {
  const d = new Date(unixMs)
  const pad = (n: number) => String(n).padStart(2, "0")
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

export const signed = (v: number, digits = 2): string => (v > 0 ? "+" : v < 0 ? "−" : "±") + Math.abs(v).toFixed(digits)

export const percent = (r: number | null): string => (r === null || !Number.isFinite(r) ? "" : ` (${signed(r * 100, 1)}%)`)

/**
 * An elapsed-time axis tick: seconds for short spans, m:ss or h:mm:ss beyond two minutes, so a
 * three-hour capture reads "1:30:00" rather than "5400".
 */
export const elapsedTick = (spanSeconds: number) => (value: number | string | Date): string => {
  const v = typeof value === "number" ? value : Number(value)
  if (!Number.isFinite(v)) return ""
  if (spanSeconds <= 120) return Number.isInteger(v) ? String(v) : v.toFixed(1)
  return duration(v * 1000)
}
