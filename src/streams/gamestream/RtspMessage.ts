/**
 * RTSP/1.0 messages as Moonlight clients and GameStream hosts exchange them: request framing
 * (incremental, with size limits) and response serialization. No socket code here.
 *
 * Framing: a request line `METHOD target RTSP/1.0`, header lines `Name: value`, an empty line,
 * then exactly `Content-Length` bytes of body (Moonlight spells it `Content-length`, so header
 * names are matched without case). `parseRequest` is fed the bytes received so far and says
 * whether the message is complete, still incomplete, or refused — the refusal carrying the RTSP
 * status to answer (400 malformed, 413 too large, 505 wrong version) and a reason naming what is
 * wrong, so the socket code never has to guess.
 *
 * Why responses are spelled the way they are: Moonlight's parser (a) looks headers up by exact,
 * case-sensitive name (`CSeq`, `Session`, `Transport`, `X-SS-Ping-Payload`, `X-SS-Connect-Data`),
 * (b) takes a header's value as everything after the one space that follows the colon, and (c)
 * treats a response without at least one header as malformed. So every response here carries
 * `CSeq` first and writes `Name: value` with exactly one space.
 *
 * Why latin1: header bytes are ASCII in practice; decoding as latin1 keeps a one-to-one byte ↔
 * character mapping, so a stray high byte is refused as a character, never mangled into another.
 */
import { Data, Schema } from "effect"

/** Everything before the empty line; Moonlight's largest request head is well under 1 KiB. */
export const MAX_HEAD_BYTES = 16 * 1024
/** ANNOUNCE bodies (the client's SDP) are about 2 KiB; nothing else carries one. */
export const MAX_BODY_BYTES = 64 * 1024
export const MAX_HEADERS = 64

/** The methods this host answers; anything else is `501 Not Implemented`. */
export const RtspMethod = Schema.Literal("OPTIONS", "DESCRIBE", "SETUP", "ANNOUNCE", "PLAY", "TEARDOWN")
export type RtspMethod = typeof RtspMethod.Type

/** `CSeq`: the client's sequence number, echoed in the answer. */
export const CSeq = Schema.String.pipe(
  Schema.pattern(/^[0-9]{1,9}$/, { message: () => "CSeq must be a non-negative integer" }),
  Schema.compose(Schema.NumberFromString),
  Schema.int()
)

/** `Content-Length`, bounded by the body limit. */
export const ContentLength = Schema.String.pipe(
  Schema.pattern(/^[0-9]{1,9}$/, { message: () => "Content-Length must be a non-negative integer" }),
  Schema.compose(Schema.NumberFromString),
  Schema.int()
)

export interface RtspRequest {
  /** As sent (checked against `RtspMethod` by the server, so an unknown one can be answered 501). */
  readonly method: string
  readonly target: string
  /** In order of arrival; names as sent. */
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly body: Buffer
}

/** Value of the first header called `name` (any case), or undefined. */
export const headerOf = (request: Pick<RtspRequest, "headers">, name: string): string | undefined => {
  const wanted = name.toLowerCase()
  return request.headers.find(([n]) => n.toLowerCase() === wanted)?.[1]
}

/** Why a request cannot be served, as the RTSP status to answer with and a reason to put in the body. */
export class RtspRefusal extends Data.TaggedError("RtspRefusal")<{
  readonly status: number
  readonly reason: string
  /** The request's CSeq when it could be read (so the answer can echo it). */
  readonly cseq?: number
}> {}

export type ParseOutcome =
  | { readonly _tag: "Incomplete" }
  | { readonly _tag: "Complete"; readonly request: RtspRequest; readonly consumed: number }
  | { readonly _tag: "Refused"; readonly refusal: RtspRefusal }

const INCOMPLETE: ParseOutcome = { _tag: "Incomplete" }
const refused = (status: number, reason: string, cseq?: number): ParseOutcome => ({
  _tag: "Refused",
  refusal: new RtspRefusal({ status, reason, ...(cseq === undefined ? {} : { cseq }) })
})

const METHOD = /^[A-Za-z_-]{1,32}$/
const TARGET = /^[\x21-\x7e]{1,1024}$/
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/
/** Visible ASCII, spaces and tabs: what a header value may hold. */
const HEADER_VALUE = /^[\x20-\x7e\t]*$/

const decodeCSeq = Schema.decodeUnknownEither(CSeq)
const decodeLength = Schema.decodeUnknownEither(ContentLength)

/**
 * Parses the request at the start of `bytes` (everything received on the connection so far).
 * Incomplete until the head and the whole declared body are there; refused as soon as the bytes
 * cannot become a valid request (so a client cannot make the host buffer garbage up to a limit).
 */
export const parseRequest = (bytes: Buffer): ParseOutcome => {
  const headEnd = bytes.indexOf("\r\n\r\n", 0, "latin1")
  if (headEnd < 0) {
    if (bytes.length > MAX_HEAD_BYTES) return refused(413, `request head larger than ${MAX_HEAD_BYTES} bytes`)
    // Refuse a malformed request line as soon as it is complete, without waiting for the rest.
    const lineEnd = bytes.indexOf("\r\n", 0, "latin1")
    if (lineEnd >= 0) {
      const early = parseRequestLine(bytes.toString("latin1", 0, lineEnd))
      if (early._tag === "Refused") return early
    } else if (bytes.length > 2048) {
      return refused(400, "request line longer than 2048 bytes")
    }
    return INCOMPLETE
  }
  if (headEnd > MAX_HEAD_BYTES) return refused(413, `request head larger than ${MAX_HEAD_BYTES} bytes`)
  const lines = bytes.toString("latin1", 0, headEnd).split("\r\n")
  const line = parseRequestLine(lines[0] ?? "")
  if (line._tag === "Refused") return line
  const headerLines = lines.slice(1)
  if (headerLines.length > MAX_HEADERS) return refused(400, `more than ${MAX_HEADERS} header lines`)
  const headers: Array<readonly [string, string]> = []
  for (const [i, text] of headerLines.entries()) {
    const colon = text.indexOf(":")
    const name = colon < 0 ? text : text.slice(0, colon)
    if (colon < 0 || !HEADER_NAME.test(name)) {
      return refused(400, `malformed header line ${i + 1}: expected 'Name: value'`, cseqOf(headers))
    }
    const value = text.slice(colon + 1).trim()
    if (!HEADER_VALUE.test(value)) {
      return refused(400, `header '${name}' holds control or non-ASCII characters`, cseqOf(headers))
    }
    headers.push([name, value])
  }
  const request = { headers }
  const rawCSeq = headerOf(request, "CSeq")
  if (rawCSeq === undefined) return refused(400, "missing header 'CSeq'")
  const cseq = decodeCSeq(rawCSeq)
  if (cseq._tag === "Left") return refused(400, "bad header 'CSeq': must be a non-negative integer")
  const rawLength = headerOf(request, "Content-Length")
  let length = 0
  if (rawLength !== undefined) {
    const decoded = decodeLength(rawLength)
    if (decoded._tag === "Left") return refused(400, "bad header 'Content-Length': must be a non-negative integer", cseq.right)
    length = decoded.right
  }
  if (length > MAX_BODY_BYTES) return refused(413, `request body larger than ${MAX_BODY_BYTES} bytes`, cseq.right)
  const bodyStart = headEnd + 4
  if (bytes.length < bodyStart + length) return INCOMPLETE
  return {
    _tag: "Complete",
    request: { method: line.method, target: line.target, headers, body: Buffer.from(bytes.subarray(bodyStart, bodyStart + length)) },
    consumed: bodyStart + length
  }
}

const cseqOf = (headers: ReadonlyArray<readonly [string, string]>): number | undefined => {
  const raw = headerOf({ headers }, "CSeq")
  if (raw === undefined) return undefined
  const decoded = decodeCSeq(raw)
  return decoded._tag === "Right" ? decoded.right : undefined
}

type RequestLine = { readonly _tag: "Line"; readonly method: string; readonly target: string } | Extract<ParseOutcome, { _tag: "Refused" }>

const parseRequestLine = (text: string): RequestLine => {
  const parts = text.split(" ")
  const [method, target, version] = parts
  if (parts.length !== 3 || method === undefined || target === undefined || version === undefined) {
    return { _tag: "Refused", refusal: new RtspRefusal({ status: 400, reason: "malformed request line: expected 'METHOD target RTSP/1.0'" }) }
  }
  if (!METHOD.test(method)) {
    return { _tag: "Refused", refusal: new RtspRefusal({ status: 400, reason: "malformed request line: the method is not a token" }) }
  }
  if (!TARGET.test(target)) {
    return { _tag: "Refused", refusal: new RtspRefusal({ status: 400, reason: "malformed request line: bad request target" }) }
  }
  if (version !== "RTSP/1.0") {
    return { _tag: "Refused", refusal: new RtspRefusal({ status: 505, reason: `unsupported protocol version '${version.slice(0, 16)}' (this host speaks RTSP/1.0)` }) }
  }
  return { _tag: "Line", method, target }
}

// ---- responses ---------------------------------------------------------------------------------

const PHRASES: Readonly<Record<number, string>> = {
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  413: "Request Entity Too Large",
  415: "Unsupported Media Type",
  454: "Session Not Found",
  455: "Method Not Valid in This State",
  459: "Aggregate Operation Not Allowed",
  461: "Unsupported Transport",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "RTSP Version Not Supported"
}

export interface RtspResponse {
  readonly status: number
  readonly cseq: number
  /** After `CSeq`, in this order; names exactly as Moonlight looks them up. */
  readonly headers?: ReadonlyArray<readonly [string, string]>
  readonly body?: string
  readonly contentType?: string
}

/** One response, `CSeq` first, `Content-Length` whenever there is a body. */
export const serializeResponse = (response: RtspResponse): Buffer => {
  const body = response.body === undefined ? undefined : Buffer.from(response.body, "utf8")
  const lines = [`RTSP/1.0 ${response.status} ${PHRASES[response.status] ?? "Unknown"}`, `CSeq: ${response.cseq}`]
  for (const [name, value] of response.headers ?? []) lines.push(`${name}: ${value}`)
  if (body !== undefined) {
    lines.push(`Content-Type: ${response.contentType ?? "text/plain; charset=utf-8"}`)
    lines.push(`Content-Length: ${body.length}`)
  }
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1")
  return body === undefined ? head : Buffer.concat([head, body])
}

/** A refusal as Moonlight reads it: the status code, with the reason as a text body for people. */
export const refusalResponse = (refusal: RtspRefusal): Buffer =>
  serializeResponse({ status: refusal.status, cseq: refusal.cseq ?? 0, body: `${refusal.reason}\r\n` })
