/**
 * Markers and budget-breach events in a real browser (issue 14.1 and 14.2, the console's part):
 * the Mark button on an armed capture adds a marker that shows in the live view and then, in the
 * saved recording, as a line on every chart and a row of the marker list; a click on a marker or
 * on a breach zooms the charts there; moving a threshold changes the breach list; a capture saved
 * before markers and breach events were stored still opens (migrated, with its events stored). The fixtures are written before the
 * host starts, as hosts old and new would have left them; the live part records the `fake` source.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Page } from "playwright-core"
import { Schema } from "effect"
import { zeroFields } from "../../src/api/Fields.js"
import { sessionFixture } from "../../src/api/SampleFixture.js"
import { Capture, CaptureMeta } from "../../src/api/Stats.js"
import type { SessionMeta, StatsSample } from "../../src/api/Stats.js"
import { assembleCapture } from "../../src/lib/captures/CaptureAssembly.js"
import { root } from "../support/HostProcess.js"
import type { HostProcess } from "../support/HostProcess.js"
import { launchChromium } from "./browser.js"
import type { LaunchedBrowser } from "./browser.js"
import { requireWebBuild, spawnConsoleHost, stopConsoleHost } from "./consoleHost.js"

const ARTIFACTS = path.join(root, "test-artifacts", "e2e")
const WAIT = 30_000
const NEW_ID = "2026-12-02T08-00-00Z_1280x720"
const OLD_ID = "2026-12-01T08-00-00Z_1280x720"

const session: SessionMeta = sessionFixture({
  session_id: "punktfunk1-1-1",
  client: "e2e",
  measured: ["fps", "host_p50_us", "host_p99_us", "frames_dropped", "rtt_us"]
})

/**
 * 60 windows of 2 s. Host p99 20 ms (1.2× the 16.7 ms budget: a breach at the default ×1, none at
 * ×1.5) in windows 10–11; 40 ms (critical at any threshold up to ×2.4) in window 30; 3 drops in
 * window 45; fps 50 (a 17% shortfall) in window 50.
 */
const samples: ReadonlyArray<StatsSample> = Array.from({ length: 60 }, (_, i) => ({
  ...zeroFields(),
  t_ms: (i + 1) * 2000,
  session_id: session.session_id,
  stages: session.stages.map((name) => ({ name, p50_us: 1000, p99_us: 1500, max_us: 2000, mean_us: 1100 })),
  fps: i === 50 ? 50 : 60,
  host_p50_us: 5000,
  host_p99_us: i === 10 || i === 11 ? 20_000 : i === 30 ? 40_000 : 7000,
  frames_dropped: i === 45 ? 3 : 0,
  rtt_us: 2000
}))

const writeFixtures = (captures: string) => {
  fs.mkdirSync(captures, { recursive: true, mode: 0o700 })
  const encode = Schema.encodeSync(Schema.parseJson(Capture))
  const encodeMeta = Schema.encodeSync(Schema.parseJson(CaptureMeta))
  // A capture saved by this host: markers and the breach events found at save.
  const current = assembleCapture({
    id: NEW_ID,
    label: "with markers",
    startedUnixMs: Date.parse("2026-12-02T08:00:00Z"),
    durationMs: 121_000,
    sessions: [session],
    samples,
    markers: [
      { t_ms: 500, label: "punktfunk1 session 1280x720@60 for e2e", kind: "session_start", session_id: session.session_id },
      { t_ms: 61_000, label: "boss fight", kind: "operator" },
      { t_ms: 100_000, label: "alt-tab", kind: "operator" }
    ],
    truncated: false,
    recovered: false
  })
  fs.writeFileSync(path.join(captures, `${NEW_ID}.json`), encode(current))
  fs.writeFileSync(path.join(captures, `${NEW_ID}.meta.json`), encodeMeta(current.meta))
  // One from before markers, breach events and format versions: none of those fields (the host
  // migrates it when it indexes it, and the rewrite stores its breach events).
  const { breach_count: _count, format_version: _version, imported: _imported, ...oldMeta } = {
    ...current.meta,
    id: OLD_ID,
    label: "old format",
    started_unix_ms: Date.parse("2026-12-01T08:00:00Z")
  }
  fs.writeFileSync(path.join(captures, `${OLD_ID}.json`), JSON.stringify({ meta: oldMeta, samples }))
  fs.writeFileSync(path.join(captures, `${OLD_ID}.meta.json`), JSON.stringify(oldMeta))
  return current
}

let host: HostProcess
let browser: LaunchedBrowser
let page: Page
let dir: string
let fixture: Capture
const pageErrors: Array<string> = []

const rangeInputs = async () => ({
  from: Number(await page.getByRole("textbox", { name: "range from (s)" }).inputValue()),
  to: Number(await page.getByRole("textbox", { name: "range to (s)" }).inputValue())
})

const openRecording = async (id: string) => {
  const back = page.getByRole("button", { name: "← Recordings" })
  if ((await back.count()) > 0) await back.first().click()
  const row = page.locator(`[data-testid="recording-row"][data-id="${id}"]`)
  await row.waitFor({ timeout: WAIT })
  await row.getByRole("button", { name: "View" }).click()
  await page.getByTestId("detail").waitFor({ timeout: WAIT })
  await page.getByTestId("breach-list").waitFor({ timeout: WAIT })
}

describe("markers and breach events in a real browser", () => {
  beforeAll(async () => {
    requireWebBuild()
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-e2e-markers-"))
    fixture = writeFixtures(path.join(dir, "captures"))
    host = await spawnConsoleHost(dir, {
      PUNKTFUNK_SOURCE: "fake",
      PUNKTFUNK_FAKE_WINDOW_MS: "500",
      PUNKTFUNK_CAPTURES_DIR: path.join(dir, "captures")
    })
    browser = await launchChromium()
    page = await browser.context.newPage()
    page.on("pageerror", (error) => pageErrors.push(error.message))
    await page.goto(`${host.url}/#token=${host.token}`)
    await page.locator('[data-testid="capture-state"]', { hasText: "idle" }).waitFor({ timeout: WAIT })
  })

  afterAll(async () => {
    await browser?.close()
    await stopConsoleHost(host, dir)
  })

  it("the recordings list counts each capture's breach events, an old one's too once migrated", async () => {
    const count = (id: string) => page.locator(`[data-testid="recording-row"][data-id="${id}"] [data-testid="breach-count"]`)
    await count(NEW_ID).waitFor({ timeout: WAIT })
    const stored = fixture.breaches?.events ?? []
    expect(stored.length).toBe(4)
    const critical = stored.filter((e) => e.severity === "critical").length
    expect((await count(NEW_ID).textContent())?.replace(/\s+/g, " ")).toBe(`${stored.length}${critical} critical`)
    expect((await count(OLD_ID).textContent())?.replace(/\s+/g, " ")).toBe(`${stored.length}${critical} critical`)
  })

  it("Mark while armed: the marker shows live, then as a line on every chart and a row of the list", async () => {
    await page.getByRole("button", { name: "Arm" }).click()
    await expect.poll(() => page.getByTestId("capture-state").textContent(), { timeout: WAIT }).toContain("armed")
    await expect.poll(async () => Number(/(\d+) windows/.exec((await page.getByTestId("live-count").textContent().catch(() => "")) ?? "")?.[1] ?? 0), { timeout: WAIT }).toBeGreaterThanOrEqual(2)
    await page.getByRole("textbox", { name: "marker label" }).fill("stutter here")
    await page.getByRole("button", { name: "Mark" }).click()
    await expect.poll(() => page.getByTestId("mark-result").textContent(), { timeout: WAIT }).toContain('Marked "stutter here"')
    // The live charts draw it once a window after it has widened their time axis over it.
    const liveLine = page.locator('[data-testid="live-stage-chart"] [data-testid="marker-line"][data-label="stutter here"]')
    await expect.poll(() => liveLine.count(), { timeout: WAIT }).toBe(1)
    const countAtMark = Number(/(\d+) windows/.exec((await page.getByTestId("live-count").textContent()) ?? "")?.[1] ?? 0)
    await expect.poll(async () => Number(/(\d+) windows/.exec((await page.getByTestId("live-count").textContent()) ?? "")?.[1] ?? 0), { timeout: WAIT }).toBeGreaterThanOrEqual(countAtMark + 2)
    await page.screenshot({ path: path.join(ARTIFACTS, "markers-live.png"), fullPage: true })
    await page.getByRole("button", { name: "Stop" }).click()
    await expect.poll(() => page.getByTestId("capture-state").textContent(), { timeout: WAIT }).toBe("idle")
    const saved = /Saved (\S+) \(/.exec((await page.getByTestId("saved").textContent({ timeout: WAIT })) ?? "")?.[1]
    expect(saved).toBeDefined()

    await openRecording(saved!)
    // The charts over the capture's timeline (a kept frame span below them draws only the markers
    // inside its own few hundred milliseconds).
    const detail = page.locator('[data-testid="detail"] .charts')
    const charts = detail.locator("figure.chart")
    await expect.poll(() => charts.count(), { timeout: WAIT }).toBeGreaterThanOrEqual(3)
    const withLine = detail.locator('figure.chart:has([data-testid="marker-line"][data-label="stutter here"])')
    await expect.poll(async () => [await withLine.count(), await charts.count()], { timeout: WAIT }).toEqual([await charts.count(), await charts.count()])
    const row = page.locator('[data-testid="marker-row"][data-label="stutter here"]')
    await row.waitFor({ timeout: WAIT })
    expect(await row.textContent()).toContain("operator")
  })

  it("a click on a marker zooms every chart around it; a click on a breach selects its range", async () => {
    await openRecording(NEW_ID)
    const detail = page.getByTestId("detail")
    // Every chart draws the operator's two markers (the session start at 0.5 s is before the first window).
    const charts = detail.locator("figure.chart")
    const n = await charts.count()
    expect(n).toBeGreaterThanOrEqual(3)
    for (const label of ["boss fight", "alt-tab"])
      await expect.poll(() => detail.locator(`figure.chart:has([data-testid="marker-line"][data-label="${label}"])`).count(), { timeout: WAIT }).toBe(n)
    expect(await page.getByTestId("marker-row").count()).toBe(3)
    await page.getByTestId("breach-list").scrollIntoViewIfNeeded()
    await page.screenshot({ path: path.join(ARTIFACTS, "markers-breaches-detail.png"), fullPage: true })

    await page.getByRole("button", { name: "zoom to marker boss fight" }).click()
    await expect.poll(() => page.getByTestId("summary").textContent(), { timeout: WAIT }).toContain("selected range")
    const around = await rangeInputs()
    expect(around.from).toBeLessThan(61)
    expect(around.to).toBeGreaterThan(61)
    expect(around.to - around.from).toBeLessThan(30)
    // Zoomed to ±6 s of 61 s: "alt-tab" at 100 s is out of view, "boss fight" still drawn.
    await expect.poll(() => detail.locator('[data-testid="marker-line"][data-label="alt-tab"]').count(), { timeout: WAIT }).toBe(0)
    expect(await detail.locator('[data-testid="stage-chart"] [data-testid="marker-line"][data-label="boss fight"]').count()).toBe(1)

    // The critical host p99 breach is window 30: (60 s, 62 s].
    const breach = (fixture.breaches?.events ?? []).find((e) => e.kind === "host_p99" && e.severity === "critical")!
    await page.getByRole("button", { name: `select host p99 breach ${(breach.from_ms / 1000).toFixed(1)} to ${(breach.to_ms / 1000).toFixed(1)} s` }).click()
    await expect.poll(rangeInputs, { timeout: WAIT }).toEqual({ from: breach.from_ms / 1000, to: breach.to_ms / 1000 })
    // The summary counts the events in the selected range.
    expect(await page.locator('[data-testid="summary"] [data-testid="breach-count"]').textContent()).toBe("1 (1 critical)")
    await page.screenshot({ path: path.join(ARTIFACTS, "breach-zoomed.png"), fullPage: true })
  })

  it("moving a threshold changes the breach list; Reset returns to the events as saved", async () => {
    await openRecording(NEW_ID)
    const rows = page.getByTestId("breach-row")
    await expect.poll(() => rows.count(), { timeout: WAIT }).toBe(4)
    expect(await page.getByTestId("breach-list-count").textContent()).toContain("as saved")
    expect(await page.locator('[data-testid="breach-row"][data-kind="host_p99"]').count()).toBe(2)
    // ×1.5 of the budget (25 ms): the 20 ms windows no longer breach, the 40 ms one does.
    await page.getByRole("spinbutton", { name: "host p99 threshold" }).fill("1.5")
    await expect.poll(() => page.locator('[data-testid="breach-row"][data-kind="host_p99"]').count(), { timeout: WAIT }).toBe(1)
    // At least 5 drops a window: the window with 3 is not a breach any more.
    await page.getByRole("spinbutton", { name: "drops threshold" }).fill("5")
    await expect.poll(() => rows.count(), { timeout: WAIT }).toBe(2)
    expect(await page.getByTestId("breach-list-count").textContent()).toContain("under the thresholds above")
    expect(await page.locator('[data-testid="summary"] [data-testid="breach-count"]').textContent()).toBe("2 (1 critical)")
    // A shortfall allowance of 20%: 50 fps of 60 (17% under) passes.
    await page.getByRole("spinbutton", { name: "fps shortfall threshold" }).fill("20")
    await expect.poll(() => rows.count(), { timeout: WAIT }).toBe(1)
    await page.getByRole("button", { name: "Reset to saved" }).click()
    await expect.poll(() => rows.count(), { timeout: WAIT }).toBe(4)
    expect(await page.getByRole("spinbutton", { name: "host p99 threshold" }).inputValue()).toBe("1")
  })

  it("a capture saved before markers and breach events opens with no markers and the breach events its migration stored", async () => {
    await openRecording(OLD_ID)
    expect(await page.getByTestId("marker-list").textContent()).toContain("none in this capture")
    expect(await page.locator('[data-testid="detail"] [data-testid="marker-line"]').count()).toBe(0)
    await expect.poll(() => page.getByTestId("breach-row").count(), { timeout: WAIT }).toBe(4)
    expect(await page.getByTestId("breach-list-count").textContent()).toContain("as saved")
    expect(pageErrors).toEqual([])
  })
})
