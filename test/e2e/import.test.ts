/**
 * Importing a capture file from the console (Playwright, Chromium, against the compiled host): the
 * upload on the recordings page stores the file, the list shows it marked imported (and the one
 * recorded here not), the detail view shows the badge, compare opens the imported and the local
 * recording side by side, and a file the host refuses shows the host's words naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Page } from "playwright-core"
import { Schema } from "effect"
import { zeroFields } from "../../src/api/Fields.js"
import { Capture, CaptureMeta } from "../../src/api/Stats.js"
import type { SessionMeta, StatsSample } from "../../src/api/Stats.js"
import { assembleCapture } from "../../src/lib/captures/CaptureAssembly.js"
import type { HostProcess } from "../support/HostProcess.js"
import { launchChromium } from "./browser.js"
import type { LaunchedBrowser } from "./browser.js"
import { requireWebBuild, spawnConsoleHost, stopConsoleHost } from "./consoleHost.js"

const WAIT = 30_000
const LOCAL_ID = "2026-12-02T08-00-00Z_1280x720"

const session: SessionMeta = {
  session_id: "s1", kind: "punktfunk1", width: 1280, height: 720, fps: 60, codec: "h264", client: "e2e",
  encoder_backend: "libx264", gpu: "none", stages: ["capture", "encode", "send"], measured: ["fps", "host_p50_us", "host_p99_us"]
}

const samples = (fps: number): Array<StatsSample> =>
  Array.from({ length: 30 }, (_, i) => ({
    ...zeroFields(),
    t_ms: i * 2000,
    session_id: "s1",
    stages: [
      { name: "capture", p50_us: 400, p99_us: 800, max_us: 900, mean_us: 420 },
      { name: "encode", p50_us: 2500, p99_us: 4000, max_us: 5000, mean_us: 2600 },
      { name: "send", p50_us: 300, p99_us: 500, max_us: 600, mean_us: 310 }
    ],
    fps,
    host_p50_us: 3300,
    host_p99_us: 5200
  }))

const captureOf = (id: string, label: string, started: string, fps: number): Capture =>
  assembleCapture({ id, label, startedUnixMs: Date.parse(started), durationMs: 58_000, sessions: [session], samples: samples(fps), truncated: false, recovered: false })

let host: HostProcess
let browser: LaunchedBrowser
let page: Page
let dir: string
const pageErrors: Array<string> = []

describe("importing a capture file in a real browser", () => {
  beforeAll(async () => {
    requireWebBuild()
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-e2e-import-"))
    const captures = path.join(dir, "captures")
    fs.mkdirSync(captures, { recursive: true, mode: 0o700 })
    const local = captureOf(LOCAL_ID, "recorded here", "2026-12-02T08:00:00Z", 60)
    fs.writeFileSync(path.join(captures, `${LOCAL_ID}.json`), Schema.encodeSync(Schema.parseJson(Capture))(local))
    fs.writeFileSync(path.join(captures, `${LOCAL_ID}.meta.json`), Schema.encodeSync(Schema.parseJson(CaptureMeta))(local.meta))
    host = await spawnConsoleHost(dir, {
      PUNKTFUNK_SOURCE: "none",
      PUNKTFUNK_CAPTURES_DIR: captures
    })
    browser = await launchChromium()
    page = await browser.context.newPage()
    page.on("pageerror", (error) => pageErrors.push(error.message))
    await page.goto(`${host.url}/#token=${host.token}`)
    await page.locator(`[data-testid="recording-row"][data-id="${LOCAL_ID}"]`).waitFor({ timeout: WAIT })
  })

  afterAll(async () => {
    await browser?.close()
    await stopConsoleHost(host, dir)
  })

  let importedId = ""

  it("uploading an exported file lists it, marked imported; the local recording is not", async () => {
    // A capture exported by another host, with a start of its own.
    const file = Schema.encodeSync(Schema.parseJson(Capture))(captureOf("elsewhere_1280x720", "from the other PC", "2026-12-01T20:00:00Z", 50))
    await page.getByLabel("capture file to import").setInputFiles({ name: "other-pc.json", mimeType: "application/json", buffer: Buffer.from(file) })
    await expect.poll(() => page.getByTestId("upload-result").textContent().catch(() => ""), { timeout: WAIT }).toContain("Imported other-pc.json as ")
    importedId = /as (\S+) \(/.exec((await page.getByTestId("upload-result").textContent()) ?? "")?.[1] ?? ""
    expect(importedId).toBe("2026-12-01T20-00-00Z_1280x720")
    const row = page.locator(`[data-testid="recording-row"][data-id="${importedId}"]`)
    await row.waitFor({ timeout: WAIT })
    expect(await row.getByTestId("label").textContent()).toBe("from the other PC")
    expect(await row.getByTestId("imported-badge").count()).toBe(1)
    expect(await page.locator(`[data-testid="recording-row"][data-id="${LOCAL_ID}"] [data-testid="imported-badge"]`).count()).toBe(0)
  })

  it("the detail view of the imported recording shows the badge", async () => {
    await page.locator(`[data-testid="recording-row"][data-id="${importedId}"]`).getByRole("button", { name: "View" }).click()
    await page.getByTestId("detail").waitFor({ timeout: WAIT })
    expect(await page.getByTestId("detail").getByTestId("imported-badge").count()).toBe(1)
    await page.getByRole("button", { name: "← Recordings" }).first().click()
    await page.getByTestId("recordings").waitFor({ timeout: WAIT })
  })

  it("compare opens the imported and the local recording side by side", async () => {
    await page.getByRole("checkbox", { name: `compare ${LOCAL_ID}` }).check()
    await page.getByRole("checkbox", { name: `compare ${importedId}` }).check()
    await page.getByTestId("compare-button").click()
    const table = page.getByTestId("compare-table")
    await table.waitFor({ timeout: WAIT })
    const heads = await table.locator("thead th[scope=col]").allTextContents()
    expect(heads).toHaveLength(2)
    expect(heads.join(" ")).toContain("recorded here")
    expect(heads.join(" ")).toContain("from the other PC")
    // The fps row: 60 for the local recording, 50 for the imported one.
    const fpsRow = table.locator('tbody tr[data-fields="fps"]').first()
    const cells = await fpsRow.locator("td").allTextContents()
    expect(cells.join(" | ")).toMatch(/60(\.0)?.*\|.*50(\.0)?/)
    await page.getByRole("button", { name: "← Recordings" }).first().click()
    await page.getByTestId("recordings").waitFor({ timeout: WAIT })
  })

  it("a file the host refuses shows its words, naming the field; nothing is listed", async () => {
    const bad = JSON.parse(Schema.encodeSync(Schema.parseJson(Capture))(captureOf("bad", "bad", "2026-11-30T20:00:00Z", 60))) as {
      samples: Array<Record<string, unknown>>
    }
    bad.samples[2]!["fps"] = -5
    await page.getByLabel("capture file to import").setInputFiles({ name: "broken.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(bad)) })
    await expect.poll(() => page.getByTestId("upload-error").textContent().catch(() => ""), { timeout: WAIT }).toContain("samples.2.fps")
    expect(await page.locator('[data-testid="recording-row"]').count()).toBe(2)
    expect(pageErrors).toEqual([])
  })
})
