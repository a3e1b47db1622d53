import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { Capture } from "../../../src/api/Stats.js"
import { capture, sample, session } from "./fixtures.js"
import { structureGuard } from "../../../src/api/StructureGuard.js"

const isCapture = structureGuard(Capture)
const good = capture([sample(0), sample(2000, { fec_us: 12 }), sample(4000)], [session("s1")])
/** The capture as the host sends it, with `edit` applied to its JSON form. */
const edited = (edit: (c: { meta: Record<string, unknown>; samples: Array<Record<string, unknown>> }) => void): unknown => {
  const json = JSON.parse(JSON.stringify(good)) as { meta: Record<string, unknown>; samples: Array<Record<string, unknown>> }
  edit(json)
  return json
}

describe("the console's structure check of a capture", () => {
  it("accepts what the Schema accepts, optional fields present or absent", () => {
    expect(Schema.is(Capture)(good)).toBe(true)
    expect(isCapture(JSON.parse(JSON.stringify(good)))).toBe(true)
  })

  it("refuses a body of the wrong shape anywhere in it", () => {
    const broken: Record<string, unknown> = {
      "an error page": "<html>502 Bad Gateway</html>",
      "no samples": edited((c) => void delete (c as Record<string, unknown>)["samples"]),
      "a sample without t_ms": edited((c) => void delete c.samples[1]!["t_ms"]),
      "fps as text": edited((c) => void (c.samples[2]!["fps"] = "60")),
      "an unknown stage name": edited((c) => void (c.samples[0]!["stages"] = [{ name: "warp", p50_us: 1, p99_us: 1, max_us: 1, mean_us: 1 }])),
      "stages not a list": edited((c) => void (c.samples[0]!["stages"] = {})),
      "an optional field of the wrong type": edited((c) => void (c.samples[1]!["fec_us"] = null)),
      "a meta without sessions": edited((c) => void delete c.meta["sessions"]),
      "an unknown measured field": edited((c) => void (c.meta["measured"] = ["warp_factor"]))
    }
    for (const [what, body] of Object.entries(broken)) {
      expect(isCapture(body), what).toBe(false)
      expect(Schema.is(Capture)(body), what).toBe(false)
    }
  })
})
