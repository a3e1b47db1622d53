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
type Refused = Extract<ParseOutcome, { readonly _tag: "Refused" }>

const refused = (status: number, reason: string, cseq?: number): Refused => ({
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

/** A request line longer than this is refused as soon as that is certain (the longest valid one is ~1 KiB). */
export const MAX_REQUEST_LINE_BYTES = 2048
/** No `\r\n\r\n` within this many bytes means the head is over `MAX_HEAD_BYTES`. */
const HEAD_LIMIT = MAX_HEAD_BYTES + 4
const CR = 0x0d
const LF = 0x0a
/** The first allocation for a body; it doubles from here up to the declared length. */
const FIRST_BODY_CAPACITY = 1024

/** The request line not judged yet; the head open; the body open; a final answer given. */
const PHASE_LINE = 0
const PHASE_HEAD = 1
const PHASE_BODY = 2
const PHASE_DONE = 3
type Phase = typeof PHASE_LINE | typeof PHASE_HEAD | typeof PHASE_BODY | typeof PHASE_DONE

/** What the head said, once it is in: the request without its body, and where the body goes. */
interface Head {
  readonly method: string
  readonly target: string
  readonly headers: ReadonlyArray<readonly [string, string]>
  /** Bytes of the request before its body (the head and its empty line). */
  readonly bodyStart: number
  readonly bodyLength: number
}

/**
 * Reads one request from the bytes of a connection as they arrive, chunk by chunk: `push` says
 * whether the request is complete, still incomplete, or refused. After a final answer (complete
 * or refused) it gives that same answer again; bytes after the request are not read (one
 * request per connection is Moonlight's way).
 *
 * Why a reader with state instead of re-parsing everything received on every chunk: this runs
 * before anything is authenticated, and a client sending its request one byte per TCP segment
 * would otherwise make the host re-copy and re-scan the whole buffer each time — quadratic work
 * (an 80 KiB request in single bytes: gigabytes copied). Here every byte is copied at most a
 * bounded number of times and scanned once:
 * - the head collects into a buffer that doubles as it fills, capped at `HEAD_LIMIT` bytes (what
 *   does not fit is never buffered: no terminator by then means the head is too large);
 * - the search for the request line's end and the head's empty line looks at each byte once,
 *   resuming where it stopped (looking back at most 3 bytes: a terminator may straddle chunks);
 * - the head is parsed once, when it is complete;
 * - the body, whose declared length was checked against `MAX_BODY_BYTES` first, collects into a
 *   buffer that doubles up to that length (the length is the client's word: a few bytes of head
 *   must not make the host allocate 64 KiB).
 *
 * The answer depends only on the bytes, never on how they were cut: the request line is judged
 * first (as soon as it ends, or once it cannot end within `MAX_REQUEST_LINE_BYTES`), then the head
 * size, then the headers — the same order whether the request arrives whole or byte by byte.
 */
export class RtspRequestReader {
  private head: Buffer = Buffer.alloc(0)
  private headFill = 0
  /** The scan for line ends has looked at every head byte before this one. */
  private scannedTo = 0
  /** Where the request line's CRLF starts, and the head's CRLF CRLF; -1 until seen. */
  private lineEnd = -1
  private headEnd = -1
  private lineChecked = false
  private parsed: Head | undefined
  private body: Buffer = Buffer.alloc(0)
  private bodyFill = 0
  /** The declared body length, once the head is parsed. */
  private bodyLength = 0
  /** Where the request stands, for `push`'s fast path (kept from the fields after each general step). */
  private phase: Phase = PHASE_LINE
  private final: ParseOutcome | undefined

  /** Bytes held for the request in progress (head and body buffers). */
  get bufferedBytes(): number {
    return this.head.length + this.body.length
  }

  /**
   * The next bytes of the connection; the outcome so far.
   *
   * Why a one-byte fast path in front: a client sending a byte per TCP segment calls this once per
   * byte, and the general path (below, `pushAny`) is too large for V8 to inline into the socket's
   * handler, so each byte paid a call and its checks — 2.6–2.9× the cost of only copying the byte
   * into place (the readers bench). A single byte in the middle of the head (request line judged,
   * not the byte that ends the head) or of the body (not its last byte) only needs storing; this
   * small function does that and leaves every decision to the general path.
   */
  push(chunk: Buffer): ParseOutcome {
    if (chunk.length === 1) {
      if (this.phase === PHASE_BODY) {
        const fill = this.bodyFill
        if (fill + 1 < this.bodyLength && fill < this.body.length) {
          this.body[fill] = chunk[0]!
          this.bodyFill = fill + 1
          return INCOMPLETE
        }
      } else if (this.phase === PHASE_HEAD) {
        const fill = this.headFill
        const head = this.head
        const b = chunk[0]!
        const endsHead = b === LF && fill >= 3 && head[fill - 1] === CR && head[fill - 2] === LF && head[fill - 3] === CR
        if (!endsHead && fill < head.length && fill + 1 < HEAD_LIMIT) {
          head[fill] = b
          this.headFill = fill + 1
          this.scannedTo = fill + 1
          return INCOMPLETE
        }
      }
    }
    const outcome = this.pushAny(chunk)
    this.phase = this.final !== undefined ? PHASE_DONE : this.parsed !== undefined ? PHASE_BODY : this.lineChecked ? PHASE_HEAD : PHASE_LINE
    return outcome
  }

  private pushAny(chunk: Buffer): ParseOutcome {
    if (this.final !== undefined) return this.final
    if (this.parsed === undefined) {
      const room = HEAD_LIMIT - this.headFill
      const taken = Math.min(room, chunk.length)
      this.appendHead(chunk, taken)
      // The common case, inline: the request line is judged, and these bytes do not end the
      // head. Then only the head's end is looked for, in the new bytes, and nothing else runs —
      // a byte per chunk costs a copy and a compare or two, not the calls of the general path.
      if (this.lineChecked && !this.endsHeadIn(this.headFill - taken)) {
        this.scannedTo = this.headFill
        if (this.headFill >= HEAD_LIMIT) return (this.final = refused(413, `request head larger than ${MAX_HEAD_BYTES} bytes`))
        return INCOMPLETE
      }
      const outcome = this.readHead()
      if (outcome !== undefined) return (this.final = outcome)
      if (this.parsed === undefined) return INCOMPLETE
      // The head is complete: what followed it in the head buffer, then the rest of the chunk,
      // is the start of the body.
      const parsed: Head = this.parsed
      this.startBody(parsed.bodyLength)
      this.appendBody(this.head, parsed.bodyStart, this.headFill)
      this.head = Buffer.alloc(0)
      if (this.bodyFill < parsed.bodyLength) this.appendBody(chunk, taken, chunk.length)
    } else {
      this.appendBody(chunk, 0, chunk.length)
      if (this.bodyFill < this.bodyLength) return INCOMPLETE
    }
    return this.complete()
  }

  /** Whether the head's CRLF CRLF ends at a byte from `from` on (looking back 3 bytes before it). */
  private endsHeadIn(from: number): boolean {
    const head = this.head
    const end = this.headFill
    for (let i = from < 3 ? 3 : from; i < end; i++) {
      if (head[i] === LF && head[i - 1] === CR && head[i - 2] === LF && head[i - 3] === CR) return true
    }
    return false
  }

  private appendHead(chunk: Buffer, count: number) {
    const needed = this.headFill + count
    if (needed <= this.head.length && count === 1) {
      // One byte into room there is: no call, no loop.
      this.head[this.headFill] = chunk[0]!
      this.headFill = needed
      return
    }
    if (needed > this.head.length) {
      let capacity = Math.max(this.head.length * 2, 256)
      while (capacity < needed) capacity *= 2
      const grown = Buffer.allocUnsafe(Math.min(capacity, HEAD_LIMIT))
      this.head.copy(grown, 0, 0, this.headFill)
      this.head = grown
    }
    copyInto(chunk, 0, count, this.head, this.headFill)
    this.headFill = needed
  }

  /**
   * Looks at the head bytes not looked at yet, once each, for the end of the request line (the
   * first CRLF) and the end of the head (the first CRLF CRLF). A byte loop rather than
   * `indexOf`: a chunk of one byte would pay a native call and a needle conversion for one byte.
   */
  private scan() {
    // Locals, one store of each field at the end: a store inside the rarely taken branches
    // would have no type feedback when the loop is optimized, and deoptimize it on every hit.
    const head = this.head
    const end = this.headFill
    let lineEnd = this.lineEnd
    let headEnd = -1
    let i = this.scannedTo
    for (; i < end; i++) {
      if (head[i] !== LF || i === 0 || head[i - 1] !== CR) continue
      if (lineEnd < 0) lineEnd = i - 1
      if (i >= 3 && head[i - 2] === LF && head[i - 3] === CR) {
        headEnd = i - 3
        i++
        break
      }
    }
    this.lineEnd = lineEnd
    this.headEnd = headEnd
    this.scannedTo = i
  }

  /** A refusal, or undefined (then `parsed` is set when the head is complete). */
  private readHead(): ParseOutcome | undefined {
    this.scan()
    if (!this.lineChecked) {
      if (this.lineEnd < 0) {
        // A line may still end at MAX_REQUEST_LINE_BYTES while fewer than 2 bytes follow it.
        if (this.headFill >= MAX_REQUEST_LINE_BYTES + 2) return refused(400, `request line longer than ${MAX_REQUEST_LINE_BYTES} bytes`)
        return undefined
      }
      if (this.lineEnd > MAX_REQUEST_LINE_BYTES) return refused(400, `request line longer than ${MAX_REQUEST_LINE_BYTES} bytes`)
      const line = parseRequestLine(this.head.toString("latin1", 0, this.lineEnd))
      if (line._tag === "Refused") return line
      this.lineChecked = true
    }
    if (this.headEnd < 0) {
      if (this.headFill >= HEAD_LIMIT) return refused(413, `request head larger than ${MAX_HEAD_BYTES} bytes`)
      return undefined
    }
    const head = parseHead(this.head.toString("latin1", 0, this.headEnd))
    if (head._tag === "Refused") return head
    const { method, target, headers, bodyLength } = head
    this.parsed = { method, target, headers, bodyLength, bodyStart: this.headEnd + 4 }
    return undefined
  }

  private startBody(length: number) {
    this.body = Buffer.allocUnsafe(Math.min(length, FIRST_BODY_CAPACITY))
    this.bodyFill = 0
    this.bodyLength = length
  }

  private appendBody(from: Buffer, start: number, end: number) {
    const length = this.bodyLength
    const count = Math.min(end - start, length - this.bodyFill)
    if (count <= 0) return
    const needed = this.bodyFill + count
    if (needed <= this.body.length && count === 1) {
      this.body[this.bodyFill] = from[start]!
      this.bodyFill = needed
      return
    }
    if (needed > this.body.length) {
      let capacity = Math.max(this.body.length * 2, FIRST_BODY_CAPACITY)
      while (capacity < needed) capacity *= 2
      const grown = Buffer.allocUnsafe(Math.min(capacity, length))
      this.body.copy(grown, 0, 0, this.bodyFill)
      this.body = grown
    }
    copyInto(from, start, count, this.body, this.bodyFill)
    this.bodyFill = needed
  }

  private complete(): ParseOutcome {
    const parsed = this.parsed
    if (parsed === undefined || this.bodyFill < parsed.bodyLength) return INCOMPLETE
    const body = this.body.subarray(0, parsed.bodyLength)
    this.final = {
      _tag: "Complete",
      request: { method: parsed.method, target: parsed.target, headers: parsed.headers, body },
      consumed: parsed.bodyStart + parsed.bodyLength
    }
    return this.final
  }
}

/** Copies `count` bytes; a loop for a handful (cheaper than a call into Buffer.copy). */
const copyInto = (from: Buffer, start: number, count: number, to: Buffer, at: number) => {
  if (count < 16) {
    for (let i = 0; i < count; i++) to[at + i] = from[start + i]!
  } else {
    from.copy(to, at, start, start + count)
  }
}

/**
 * Parses the request at the start of `bytes` (everything received on the connection so far).
 * Incomplete until the head and the whole declared body are there; refused as soon as the bytes
 * cannot become a valid request (so a client cannot make the host buffer garbage up to a limit).
 * The same answer as an `RtspRequestReader` given the bytes in any number of chunks.
 */
export const parseRequest = (bytes: Buffer): ParseOutcome => new RtspRequestReader().push(bytes)

type ParsedHead = { readonly _tag: "Head"; readonly method: string; readonly target: string; readonly headers: ReadonlyArray<readonly [string, string]>; readonly bodyLength: number }

/** The head without its empty line: request line, headers, CSeq, Content-Length (checked against the limit). */
const parseHead = (text: string): ParsedHead | Refused => {
  const lines = text.split("\r\n")
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
  return { _tag: "Head", method: line.method, target: line.target, headers, bodyLength: length }
}

const cseqOf = (headers: ReadonlyArray<readonly [string, string]>): number | undefined => {
  const raw = headerOf({ headers }, "CSeq")
  if (raw === undefined) return undefined
  const decoded = decodeCSeq(raw)
  return decoded._tag === "Right" ? decoded.right : undefined
}

type RequestLine = { readonly _tag: "Line"; readonly method: string; readonly target: string } | Refused

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
