/**
 * The flight recorder's frame-time chart in a real browser (issue 14.3): a capture with kept frame
 * spans opens in the detail view with one bar per frame, stacked by stage, and the budget line.
 * The capture and its `<id>.frames.json` are written before the host starts, as a host that saw a
 * breach would have left them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Page } from "playwright-core"
import { Schema } from "effect"
import { sampleFixture, sessionFixture } from "../../src/api/SampleFixture.js"
import { FramesFile } from "../../src/api/Frames.js"
import type { FrameRecord } from "../../src/api/Frames.js"
import { Capture } from "../../src/api/Stats.js"
import type { SessionMeta } from "../../src/api/Stats.js"
import { root } from "../support/HostProcess.js"
import type { HostProcess } from "../support/HostProcess.js"
import { launchChromium } from "./browser.js"
import type { LaunchedBrowser } from "./browser.js"
import { CAPTURE_FORMAT_VERSION } from "../../src/api/CaptureFormat.js"
import { requireWebBuild, spawnConsoleHost, stopConsoleHost } from "./consoleHost.js"

const ARTIFACTS = path.join(root, "test-artifacts", "e2e")
const WAIT = 30_000
const ID = "2026-12-03T08-00-00Z_1280x720"
const FRAMES = 90

const session: SessionMeta = sessionFixture({ session_id: "punktfunk1-1-1" })

/** Frames of 6 ms, every 10th one 30 ms (its encode stage), so some bars cross the 16.7 ms line. */
const frame = (i: number): FrameRecord => {
  const encode = i % 10 === 9 ? 26_000 : 2_000
  const ends = [1_000, 1_500, 1_500 + encode, 2_000 + encode]
  return {
    t_ms: 2_000 + (i * 1000) / 60,
    woke_us: 20,
    stages_us: ends.map((end, s) => [s === 0 ? 0 : ends[s - 1]!, end] as const),
    host_us: ends[3]!,
    bytes: 30_000,
    packets: 0,
    dropped_before: 0,
    key: i === 0,
    repeat: false
  }
}

const writeFixture = (captures: string) => {
  fs.mkdirSync(captures, { recursive: true, mode: 0o700 })
  const samples = [2000, 4000, 6000].map((t) => sampleFixture({
    t_ms: t,
    session_id: session.session_id,
    stages: session.stages.map((name) => ({ name, p50_us: 1000, p99_us: 2000, max_us: 3000, mean_us: 1100 })),
    fps: 60,
    host_p50_us: 6000,
    host_p99_us: t === 4000 ? 28_000 : 7000
  }))
  const frames: FramesFile = {
    version: 1,
    id: ID,
    max_spans: 64,
    max_frames: 30_000,
    bound_hit: false,
    spans: [
      {
        session_id: session.session_id,
        reason: "breach",
        detail: "host p99 28.0 ms over the 16.7 ms line in 1 window",
        from_ms: 2000,
        to_ms: 4000,
        budget_us: 1e6 / 60,
        stages: session.stages,
        frames: Array.from({ length: FRAMES }, (_, i) => frame(i))
      }
    ]
  }
  const capture: Capture = {
    meta: {
      format_version: CAPTURE_FORMAT_VERSION,
      id: ID,
      label: "with frames",
      started_unix_ms: Date.parse("2026-12-03T08:00:00Z"),
      duration_ms: 6000,
      kind: "punktfunk1",
      width: 1280,
      height: 720,
      fps: 60,
      codec: "h264",
      client: "",
      encoder_backend: "libx264",
      gpu: "none",
      sample_count: samples.length,
      truncated: false,
      recovered: false,
      measured: session.measured,
      sessions: [session],
      frames: { spans: 1, frames: FRAMES, bound_hit: false },
      imported: false
    },
    samples,
    // One marker inside the kept span (its frames run 2.0–3.5 s), one outside it.
    markers: [
      { t_ms: 2500, label: "hitch", kind: "operator" },
      { t_ms: 5000, label: "later", kind: "operator" }
    ]
  }
  fs.writeFileSync(path.join(captures, `${ID}.frames.json`), Schema.encodeSync(Schema.parseJson(FramesFile))(frames))
  fs.writeFileSync(path.join(captures, `${ID}.json`), Schema.encodeSync(Schema.parseJson(Capture))(capture))
}

let host: HostProcess
let browser: LaunchedBrowser
let page: Page
let dir: string

describe("frame-time chart in a real browser", () => {
  beforeAll(async () => {
    requireWebBuild()
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-e2e-frames-"))
    writeFixture(path.join(dir, "captures"))
    host = await spawnConsoleHost(dir, {
      PUNKTFUNK_SOURCE: "none",
      PUNKTFUNK_CAPTURES_DIR: path.join(dir, "captures")
    })
    browser = await launchChromium()
    page = await browser.context.newPage()
  })

  afterAll(async () => {
    await browser?.close()
    await stopConsoleHost(host, dir)
  })

  it("opens a capture with frame records and shows one stacked bar per frame under the budget line", async () => {
    await page.goto(`${host.url}/#token=${host.token}`)
    const row = page.locator(`[data-testid="recording-row"][data-id="${ID}"]`)
    await row.waitFor({ timeout: WAIT })
    await row.getByRole("button", { name: "View" }).click()
    const chart = page.getByTestId("frame-time-chart")
    await chart.waitFor({ timeout: WAIT })
    expect(await chart.getAttribute("data-frames")).toBe(String(FRAMES))
    expect(await chart.getAttribute("data-over-budget")).toBe(String(FRAMES / 10))
    // One bar segment per frame and stage (Nivo draws each as a rect in the chart's svg).
    const bars = chart.locator("svg rect")
    await expect.poll(() => bars.count(), { timeout: WAIT }).toBeGreaterThanOrEqual(FRAMES * session.stages.length)
    // The budget line is drawn with its label.
    await expect.poll(() => chart.locator("svg text", { hasText: "budget" }).count(), { timeout: WAIT }).toBeGreaterThan(0)
    // The marker inside the span is drawn at its frame; the one after the span is not.
    await expect.poll(() => chart.locator('[data-testid="marker-line"][data-label="hitch"]').count(), { timeout: WAIT }).toBe(1)
    expect(await chart.locator('[data-testid="marker-line"][data-label="later"]').count()).toBe(0)
    const box = await chart.locator("figure").boundingBox()
    expect(box?.height).toBe(300)
    await page.screenshot({ path: path.join(ARTIFACTS, "frames-chart.png"), fullPage: true })
  })
})
