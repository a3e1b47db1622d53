/**
 * The console end to end: a built host (a real synthetic session, encoded with libx264 for a
 * paired client that watches without taking media; 2 s windows) driven through headless
 * Chromium the way an operator uses it — token, arm, watch live, stop, open, compare, export,
 * delete. Every wait is on visible state with a generous deadline (CI is a shared 2-core box);
 * a screenshot of each step goes to `test-artifacts/e2e/`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Page } from "playwright-core"
import { Schema } from "effect"
import { captureStages, csvHeader } from "../../src/api/Csv.js"
import { Capture } from "../../src/api/Stats.js"
import { CaptureListing } from "../../src/api/CaptureListing.js"
import { watchWithoutMedia } from "../support/Clients.js"
import type { Viewer } from "../support/Clients.js"
import { root } from "../support/HostProcess.js"
import type { HostProcess } from "../support/HostProcess.js"
import { launchChromium } from "./browser.js"
import type { LaunchedBrowser } from "./browser.js"
import { requireWebBuild, spawnConsoleHost, stopConsoleHost } from "./consoleHost.js"

const ARTIFACTS = path.join(root, "test-artifacts", "e2e")
const WAIT = 30_000

let host: HostProcess
let viewer: Viewer | undefined
let browser: LaunchedBrowser
let page: Page
let dir: string
let step = 0
const pageErrors: Array<string> = []

const shot = async (name: string) => {
  step++
  await page.screenshot({ path: path.join(ARTIFACTS, `${String(step).padStart(2, "0")}-${name}.png`), fullPage: true })
}

const apiJson = async (route: string): Promise<unknown> => {
  const res = await host.fetch(route)
  expect(res.status).toBe(200)
  return res.json()
}

const listRecordings = async () => Schema.decodeUnknownSync(CaptureListing)(await apiJson("/recordings"))

/** Arm from the page, wait until the live view shows at least `windows` windows, stop. */
const recordFromPage = async (windows: number, name: string) => {
  await page.getByRole("button", { name: "Arm" }).click()
  await expect.poll(() => page.getByTestId("capture-state").textContent(), { timeout: WAIT }).toContain("armed")
  await page.getByTestId("live-view").waitFor({ timeout: WAIT })
  await expect
    .poll(async () => Number(/(\d+) windows/.exec((await page.getByTestId("live-count").textContent()) ?? "")?.[1] ?? 0), {
      timeout: WAIT
    })
    .toBeGreaterThanOrEqual(windows)
  // The live chart draws one band per stage of the session.
  await expect.poll(() => page.locator('[data-testid="live-stage-chart"] [data-testid="stack-series"]').count(), { timeout: WAIT }).toBeGreaterThan(0)
  await expect.poll(async () => Number(/(\d+) samples/.exec((await page.getByTestId("sample-count").textContent()) ?? "")?.[1] ?? 0), { timeout: WAIT }).toBeGreaterThan(0)
  await shot(`${name}-live`)
  await page.getByRole("button", { name: "Stop" }).click()
  await expect.poll(() => page.getByTestId("capture-state").textContent(), { timeout: WAIT }).toBe("idle")
  await page.getByTestId("saved").waitFor({ timeout: WAIT })
}

describe("performance console in a real browser", () => {
  beforeAll(async () => {
    requireWebBuild()
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-e2e-"))
    host = await spawnConsoleHost(dir, {
      PUNKTFUNK_SOURCE: "synthetic",
      PUNKTFUNK_CAPTURES_DIR: path.join(dir, "captures")
    })
    // A host encodes only while a client watches: a real synthetic session through the native
    // pipeline (libx264) for this client, small so the browser and the encoder share a 2-core CI
    // machine comfortably; its windows come every 2 s.
    viewer = await watchWithoutMedia(host, "console-e2e", { width: 640, height: 360, fps: 30 })
    browser = await launchChromium()
    page = await browser.context.newPage()
    page.on("pageerror", (error) => pageErrors.push(error.message))
  })

  afterAll(async () => {
    await browser?.close()
    await viewer?.stop()
    await stopConsoleHost(host, dir)
  })

  it("the host's console link (token in the fragment) opens without asking and leaves no token in the address bar", async () => {
    const linked = await browser.context.newPage()
    try {
      const requests: Array<string> = []
      linked.on("request", (r) => requests.push(r.url()))
      await linked.goto(`${host.url}/#token=${host.token}`)
      await expect.poll(() => linked.getByTestId("capture-state").textContent(), { timeout: WAIT }).toBe("idle")
      expect(linked.url()).not.toContain(host.token)
      expect(await linked.getByRole("textbox", { name: "token" }).count()).toBe(0)
      // The token travels only in the header: never in a URL the page requested.
      expect(requests.length).toBeGreaterThan(0)
      for (const url of requests) expect(url).not.toContain(host.token)
    } finally {
      await linked.close()
    }
  })

  it("token, arm, live, stop, open, compare, label, JSON and CSV, delete", async () => {
    // 1. No token in the URL: the page asks once; a wrong one is refused in words.
    await page.goto(`${host.url}/`)
    const tokenBox = page.getByRole("textbox", { name: "token" })
    await tokenBox.waitFor({ timeout: WAIT })
    await tokenBox.fill("not-the-token")
    await page.getByRole("button", { name: "Connect" }).click()
    await page.getByText("refused the token").first().waitFor({ timeout: WAIT })
    await shot("token-refused")
    await tokenBox.fill(host.token)
    await page.getByRole("button", { name: "Connect" }).click()
    await expect.poll(() => page.getByTestId("capture-state").textContent(), { timeout: WAIT }).toBe("idle")
    await page.getByText("No recordings yet").waitFor({ timeout: WAIT })
    // The token is in sessionStorage and never in the address bar.
    expect(page.url()).not.toContain(host.token)
    await shot("connected")

    // 2. Two recordings from the page.
    await recordFromPage(4, "first")
    await expect.poll(() => page.getByTestId("recording-row").count(), { timeout: WAIT }).toBe(1)
    await recordFromPage(4, "second")
    await expect.poll(() => page.getByTestId("recording-row").count(), { timeout: WAIT }).toBe(2)
    await shot("recordings")
    const metas = await listRecordings()
    expect(metas).toHaveLength(2)
    for (const meta of metas) expect(meta.sample_count).toBeGreaterThan(0)

    // 3. Open one: the stacked chart holds one band per stage, the budget line and the host total.
    const target = metas[0]!
    const capture = Schema.decodeUnknownSync(Capture)(await apiJson(`/recordings/${target.id}`))
    const stages = captureStages(capture)
    expect(stages.length).toBeGreaterThan(1)
    await page.locator(`[data-testid="recording-row"][data-id="${target.id}"]`).getByRole("button", { name: "View" }).click()
    await page.getByTestId("detail").waitFor({ timeout: WAIT })
    const bands = page.locator('[data-testid="stage-chart"] [data-testid="stack-series"]')
    await expect.poll(() => bands.count(), { timeout: WAIT }).toBe(stages.length)
    const drawn = await bands.evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-series")))
    expect(drawn).toEqual([...stages])
    await page.locator('[data-testid="stage-chart"] [data-testid="frame-budget"]').waitFor({ timeout: WAIT })
    await page.locator('[data-testid="stage-chart"] [data-testid="host-total"]').waitFor({ timeout: WAIT })
    // Each band has real geometry, not an empty path.
    const bandPaths = await bands.locator("path").evaluateAll((nodes) => nodes.map((n) => n.getAttribute("d") ?? ""))
    for (const d of bandPaths) expect(d.length).toBeGreaterThan(10)
    // Every stage of the capture has a row in the summary. A session whose client takes no media
    // measures skipped deadlines but has no network to lose packets on: "not measured", not 0.
    for (const stage of stages) await page.locator(`[data-testid="summary"] tr[data-stage="${stage}"]`).waitFor({ timeout: WAIT })
    expect(await page.getByTestId("frames_dropped").textContent()).not.toBe("not measured")
    expect(await page.getByTestId("packets_dropped").textContent()).toBe("not measured")
    // Crosshair tooltip: hovering the stack names every stage, the sum and the measured host total.
    // The summary above it has a row per field of the field table: bring the chart into view first.
    await page.getByTestId("stage-chart").scrollIntoViewIfNeeded()
    const chartBox = (await page.getByTestId("stage-chart").boundingBox())!
    await page.mouse.move(chartBox.x + chartBox.width * 0.5, chartBox.y + chartBox.height * 0.5)
    const tooltip = page.locator(".tooltip").first()
    await tooltip.waitFor({ timeout: WAIT })
    for (const stage of stages) expect(await tooltip.textContent()).toContain(stage)
    expect(await tooltip.textContent()).toContain("host total (measured)")
    await shot("detail")
    await page.mouse.move(0, 0)

    // Selecting a range re-computes the summary over the selection.
    const windowsText = async () => (await page.locator('[data-testid="summary"] h3').textContent()) ?? ""
    const before = await windowsText()
    const strip = page.getByTestId("range-brush")
    // A taller page (more summary rows, more charts) may leave the strip below the fold, where a
    // drag lands on nothing: bring it into view first.
    await strip.scrollIntoViewIfNeeded()
    const box = (await strip.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 })
    await page.mouse.up()
    await expect.poll(windowsText, { timeout: WAIT }).toContain("selected range")
    expect(await windowsText()).not.toBe(before)
    await page.getByRole("radio", { name: "p99", exact: true }).check()
    await expect.poll(() => bands.count(), { timeout: WAIT }).toBe(stages.length)
    await shot("detail-range-p99")
    await page.getByRole("button", { name: "← Recordings" }).click()

    // 4. Compare the two.
    for (const meta of metas) await page.getByLabel(`compare ${meta.id}`).check()
    await page.getByTestId("compare-button").click()
    await page.getByTestId("compare-table").waitFor({ timeout: WAIT })
    await expect
      .poll(() => page.locator('[data-testid="compare-latency-chart"] [data-testid="series-lines"] path').count(), { timeout: WAIT })
      .toBe(2)
    expect(await page.locator('[data-testid="compare-table"] thead th[scope="col"]').count()).toBe(2)
    expect(await page.locator('[data-testid="compare-table"] .delta').count()).toBeGreaterThan(0)
    await shot("compare")
    await page.getByRole("button", { name: "← Recordings" }).click()

    // 5. Label it: the list and the API both show the new label.
    const row = page.locator(`[data-testid="recording-row"][data-id="${target.id}"]`)
    await row.getByRole("button", { name: "Label" }).click()
    await row.getByLabel(`label for ${target.id}`).fill("baseline, 720p")
    await row.getByRole("button", { name: "Save label" }).click()
    await expect.poll(() => row.getByTestId("label").textContent(), { timeout: WAIT }).toBe("baseline, 720p")
    expect((await listRecordings()).find((m) => m.id === target.id)?.label).toBe("baseline, 720p")

    // JSON download: the whole capture, decodable with the Schema.
    const [json] = await Promise.all([page.waitForEvent("download", { timeout: WAIT }), row.getByRole("button", { name: "JSON" }).click()])
    expect(json.suggestedFilename()).toBe(`${target.id}.json`)
    const downloaded = Schema.decodeUnknownSync(Schema.parseJson(Capture))(fs.readFileSync(await json.path(), "utf8"))
    expect(downloaded.samples).toHaveLength(capture.samples.length)
    expect(downloaded.meta.label).toBe("baseline, 720p")

    // CSV download: the header is the capture's, one row per sample.
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: WAIT }), row.getByRole("button", { name: "CSV" }).click()])
    expect(download.suggestedFilename()).toBe(`${target.id}.csv`)
    const file = await download.path()
    const text = fs.readFileSync(file, "utf8")
    const lines = text.split("\r\n").filter((l) => l !== "")
    expect(lines[0]).toBe(csvHeader(stages).join(","))
    expect(lines.length - 1).toBe(capture.samples.length)
    fs.copyFileSync(file, path.join(ARTIFACTS, `${target.id}.csv`))
    await shot("csv-downloaded")

    // 6. Delete, with confirmation.
    await row.getByRole("button", { name: "Delete" }).click()
    await row.getByRole("button", { name: "Yes, delete" }).waitFor({ timeout: WAIT })
    await shot("delete-confirm")
    await row.getByRole("button", { name: "Yes, delete" }).click()
    await expect.poll(() => page.getByTestId("recording-row").count(), { timeout: WAIT }).toBe(1)
    expect((await listRecordings()).map((m) => m.id)).not.toContain(target.id)
    await shot("deleted")

    // 7. The Devices page reads the pairing routes through the same typed client.
    await page.getByRole("button", { name: "Devices" }).click()
    await page.getByTestId("no-pending").waitFor({ timeout: WAIT })
    // The one paired client is the viewer whose session was recorded.
    await expect.poll(() => page.getByTestId("client-row").count(), { timeout: WAIT }).toBe(1)
    expect(await page.getByTestId("client-row").first().textContent()).toContain("console-e2e")
    await shot("devices")
    await page.getByRole("button", { name: "Performance" }).click()
    await expect.poll(() => page.getByTestId("recording-row").count(), { timeout: WAIT }).toBe(1)
    // Nothing threw in the page along the way.
    expect(pageErrors).toEqual([])
  })
})
