/**
 * Capture ids name files, so they are checked before they touch the disk.
 *
 * Rules: `^[A-Za-z0-9._-]+$`, never `.` or `..`, at most 128 characters, and nothing Windows
 * refuses as a file name (`CON`, `NUL`, `COM1`…, with or without an extension, or a trailing `.`),
 * so a captures folder copied to another machine still opens. Anything else is "not found".
 */
const ID_CHARSET = /^[A-Za-z0-9._-]+$/
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i
export const MAX_ID_LENGTH = 128

export const isValidCaptureId = (id: string): boolean => {
  if (id.length === 0 || id.length > MAX_ID_LENGTH) return false
  if (!ID_CHARSET.test(id)) return false
  if (id === "." || id === ".." || id.endsWith(".")) return false
  // Our own bookkeeping files start with a dot; a capture id never does. Nor does it end like
  // the files we keep beside a capture (`<id>.meta.json`, `<id>.frames.json`, `<id>.json.tmp`):
  // `X.meta` would otherwise name X's meta file as if it were a capture.
  if (id.startsWith(".")) return false
  if (/\.(meta|frames|tmp)$/i.test(id)) return false
  const stem = id.split(".")[0] ?? ""
  return !WINDOWS_RESERVED.test(stem)
}

const pad = (n: number) => String(n).padStart(2, "0")

/** `2026-11-24T20-14-03Z_1280x720`: start time in UTC (dashes, not colons) and resolution. */
export const baseCaptureId = (startedUnixMs: number, width: number, height: number): string => {
  const d = new Date(startedUnixMs)
  const stamp = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}-${pad(
    d.getUTCMinutes()
  )}-${pad(d.getUTCSeconds())}Z`
  return `${stamp}_${width}x${height}`
}

/** The base id, or `base-2`, `base-3`… — the first that `taken` does not hold. Never overwrites. */
export const uniqueCaptureId = (base: string, taken: (id: string) => boolean): string => {
  if (!taken(base)) return base
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`
    if (!taken(candidate)) return candidate
  }
}
