/**
 * The console over HTTPS, as an operator on the LAN meets it: the host bound beyond loopback
 * (every address), started a second time so it prints no token; the page, reached over loopback,
 * asks for the token from the file, works, and never puts it in a URL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { spawnHost } from "../support/HostProcess.js"
import type { HostProcess } from "../support/HostProcess.js"
import { servedFingerprint } from "../support/Tls.js"
import { launchChromium } from "./browser.js"
import type { LaunchedBrowser } from "./browser.js"
import { consoleHostEnv, requireWebBuild, stopConsoleHost } from "./consoleHost.js"

const WAIT = 30_000

let host: HostProcess
let browser: LaunchedBrowser
let dir: string

const hostEnv = () => consoleHostEnv(dir, { PUNKTFUNK_SOURCE: "fake", PUNKTFUNK_FAKE_WINDOW_MS: "200", PUNKTFUNK_BIND: "0.0.0.0" })

describe("the console over HTTPS (API bound beyond loopback)", () => {
  beforeAll(async () => {
    requireWebBuild()
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-e2e-https-"))
    // The first start generates (and prints) the token; the second is the one operators see daily.
    const first = await spawnHost(hostEnv())
    first.child.kill("SIGTERM")
    await first.exited
    host = await spawnHost(hostEnv())
    browser = await launchChromium({ ignoreHTTPSErrors: true })
  })

  afterAll(async () => {
    await browser?.close()
    await stopConsoleHost(host, dir)
  })

  it("asks for the token, which then works; the token is in no URL and not in the host's output", async () => {
    expect(host.output()).not.toContain(host.token)
    const port = Number(new URL(host.url).port)
    expect(host.url.startsWith("https://")).toBe(true)
    expect(await servedFingerprint(port)).toBe(host.fingerprint)
    const printed = /^console: (\S+)/m.exec(host.output())?.[1]
    expect(printed).toBe(`${host.url}/`)

    const page = await browser.context.newPage()
    const requests: Array<string> = []
    page.on("request", (r) => requests.push(r.url()))
    const opened = await page.goto(`https://127.0.0.1:${port}/`)
    expect(opened?.status()).toBe(200)
    expect((await opened?.securityDetails())?.protocol).toMatch(/^TLS/)
    const tokenBox = page.getByRole("textbox", { name: "token" })
    await tokenBox.waitFor({ timeout: WAIT })
    await tokenBox.fill(fs.readFileSync(host.tokenFile, "utf8").trim())
    await page.getByRole("button", { name: "Connect" }).click()
    await expect.poll(() => page.getByTestId("capture-state").textContent(), { timeout: WAIT }).toBe("idle")
    await page.getByRole("button", { name: "Arm" }).click()
    await expect.poll(() => page.getByTestId("capture-state").textContent(), { timeout: WAIT }).toContain("armed")
    await page.getByRole("button", { name: "Stop" }).click()
    await expect.poll(() => page.getByTestId("capture-state").textContent(), { timeout: WAIT }).toBe("idle")
    for (const url of requests) {
      expect(url.startsWith(`https://127.0.0.1:${port}/`), url).toBe(true)
      expect(url).not.toContain(host.token)
    }
  })
})
