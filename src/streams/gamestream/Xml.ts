/**
 * nvhttp answers: a flat XML document `<root status_code="…">` with one element per field, the
 * shape Moonlight clients read (they look for `status_code` on `root`, then the named elements).
 *
 * Why a writer this small and no XML library: every answer is one level deep (applist two), the
 * values are numbers, hex and a few names; escaping the five XML specials is all it takes. A
 * refusal always carries a `status_message`, which Moonlight shows to its user as the reason.
 */

export type XmlValue = string | number
export type XmlField = readonly [name: string, value: XmlValue | ReadonlyArray<readonly [string, XmlValue]>]

export const escapeXml = (s: string): string =>
  s.replace(/[<>&"']/g, (c) => (c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "&" ? "&amp;" : c === '"' ? "&quot;" : "&apos;"))

const element = ([name, value]: XmlField): string =>
  typeof value === "string" || typeof value === "number"
    ? `<${name}>${escapeXml(String(value))}</${name}>`
    : `<${name}>${value.map((f) => element(f)).join("")}</${name}>`

export const xmlDocument = (statusCode: number, fields: ReadonlyArray<XmlField>, statusMessage?: string): string =>
  `<?xml version="1.0" encoding="utf-8"?>\n<root status_code="${statusCode}"${
    statusMessage === undefined ? "" : ` status_message="${escapeXml(statusMessage)}"`
  }>${fields.map(element).join("")}</root>\n`

/** An nvhttp answer: HTTP status and body (XML, or the PNG of `appasset`). */
export interface NvResponse {
  readonly status: number
  /** The XML `status_code` (200 for the PNG): what the counters and logs go by. */
  readonly statusCode: number
  readonly contentType: string
  readonly body: string | Buffer
}

export const ok = (fields: ReadonlyArray<XmlField>): NvResponse => ({
  status: 200,
  statusCode: 200,
  contentType: "application/xml",
  body: xmlDocument(200, fields)
})

/**
 * A refusal: the code in `status_code`, the reason in `status_message`. The HTTP status stays 200
 * unless given, as GameStream hosts answer: Moonlight reads the XML and shows `status_message`,
 * while an HTTP error status would only get its generic network-error text.
 */
export const refusal = (statusCode: number, message: string, fields: ReadonlyArray<XmlField> = [], httpStatus = 200): NvResponse => ({
  status: httpStatus,
  statusCode,
  contentType: "application/xml",
  body: xmlDocument(statusCode, fields, message)
})
