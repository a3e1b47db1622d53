/**
 * `contrib/grafana/punktfunk-dashboard.json`: every metric its queries name is a family the host
 * exposes (read from a running host's `/metrics`, where every family has its TYPE line even
 * before it has a series), and it has the panels an operator looks for.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { root } from "./support/HostProcess.js"
import { startHost } from "./support/TestHost.js"

interface Panel {
  readonly title: string
  readonly type: string
  readonly targets?: ReadonlyArray<{ readonly expr: string }>
}

const dashboard = JSON.parse(
  fs.readFileSync(path.join(root, "contrib", "grafana", "punktfunk-dashboard.json"), "utf8")
) as { readonly panels: ReadonlyArray<Panel>; readonly templating: { readonly list: ReadonlyArray<{ readonly definition?: string }> } }

const exprs = [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
  ...dashboard.templating.list.flatMap((v) => (v.definition === undefined ? [] : [v.definition]))
]
const named = new Set(exprs.flatMap((e) => [...e.matchAll(/\bpunktfunk_[a-z0-9_]+\b/g)].map((m) => m[0])))

describe("the Grafana dashboard", () => {
  it("has the panels: sessions, fps and bitrate against their targets, stage stack, host latency, drops and FEC, RTT", () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase())
    for (const words of ["sessions", "frames per second vs target", "bitrate vs target", "stage latency", "host latency", "drops and fec", "round-trip"]) {
      expect(titles.some((t) => t.includes(words)), words).toBe(true)
    }
    for (const e of exprs) expect(e).not.toContain("quantile")
    expect(named.size).toBeGreaterThanOrEqual(10)
  })

  it.scopedLive("names only metrics the host exposes", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ env: { PUNKTFUNK_SOURCE: "fake" }, windowMs: 30 })
      const res = yield* Effect.promise(() => host.fetch(`${host.url}/metrics`))
      expect(res.status).toBe(200)
      const text = yield* Effect.promise(() => res.text())
      const exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]))
      const missing = [...named].filter((name) => !exposed.has(name))
      expect(missing).toEqual([])
    })
  )
})
