import { afterEach, describe, expect, it, vi } from "vitest"
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
    const seen = host(JSON.stringify(rows), '"v1"')
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
    host(JSON.stringify([{ ...rows[0], session_count: "two" }]), '"v2"')
    await expect(makeConsoleApi("http://host", "t").list()).rejects.toThrow(/session_count/)
  })
})
