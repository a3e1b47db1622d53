import { afterEach, describe, expect, it, vi } from "vitest"
import { Schema } from "effect"
import { CaptureListing } from "../../../src/api/CaptureListing.js"
import { captureListItem } from "../../../src/api/Stats.js"
import { makeConsoleApi } from "./client.js"
import { capture, sample, session } from "./fixtures.js"

afterEach(() => {
  vi.unstubAllGlobals()
})

const rows = [
  captureListItem(capture([sample(0), sample(2000)], [session("s1"), session("s2")], { id: "cap-b", label: "after" }).meta),
  captureListItem(capture([sample(0)], [session("s1")], { id: "cap-a", label: "before", breach_count: { total: 2, critical: 0 } }).meta)
]

/** The listing as a host sends it: a table of the rows (src/api/CaptureListing.ts). */
const table = Schema.encodeSync(Schema.parseJson(CaptureListing))

/** A host double answering the listing with an ETag and honouring `If-None-Match`. */
const host = (body: string, etag: string) => {
  const seen: Array<string | null> = []
  vi.stubGlobal("fetch", async (_url: string, init: RequestInit) => {
    const conditional = new Headers(init.headers).get("if-none-match")
    seen.push(conditional)
    return conditional === etag
      ? new Response(null, { status: 304, headers: { etag } })
      : new Response(body, { status: 200, headers: { etag, "content-type": "application/json" } })
  })
  return seen
}

describe("the console's capture listing", () => {
  it("reads the rows and, on a refresh of an unchanged list, sends the ETag back and keeps the rows on 304", async () => {
    const seen = host(table(rows), '"v1"')
    const api = makeConsoleApi("http://host", "t")
    const first = await api.list()
    expect(first.map((r) => [r.id, r.label, r.session_count, r.breach_count?.total])).toEqual([
      ["cap-b", "after", 2, undefined],
      ["cap-a", "before", 1, 2]
    ])
    const again = await api.list()
    expect(seen).toEqual([null, '"v1"'])
    expect(again).toEqual(first)
  })

  it("refuses rows of the wrong shape in the Schema's words", async () => {
    const wire = JSON.parse(table(rows)) as { columns: Array<string>; rows: Array<Array<unknown>> }
    wire.rows[0]![wire.columns.indexOf("session_count")] = "two"
    host(JSON.stringify(wire), '"v2"')
    await expect(makeConsoleApi("http://host", "t").list()).rejects.toThrow(/session_count/)
  })

  it("reads a column it knows wherever a newer host puts it, ignores one it does not know, and names a missing one", async () => {
    const wire = JSON.parse(table(rows)) as { columns: Array<string>; rows: Array<Array<unknown>> }
    const reordered = {
      columns: ["gpu_hours", ...[...wire.columns].reverse()],
      rows: wire.rows.map((values) => [7, ...[...values].reverse()])
    }
    host(JSON.stringify(reordered), '"v3"')
    const listed = await makeConsoleApi("http://host", "t").list()
    expect(listed.map((r) => [r.id, r.label, r.session_count])).toEqual([
      ["cap-b", "after", 2],
      ["cap-a", "before", 1]
    ])
    expect(listed[0]).not.toHaveProperty("gpu_hours")
    const at = wire.columns.indexOf("label")
    host(JSON.stringify({ columns: wire.columns.filter((_, i) => i !== at), rows: wire.rows.map((v) => v.filter((_, i) => i !== at)) }), '"v4"')
    await expect(makeConsoleApi("http://host", "t").list()).rejects.toThrow(/no column "label"/)
  })
})
