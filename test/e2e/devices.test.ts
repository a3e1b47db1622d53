/**
 * The console's Devices page end to end, against a built host and headless Chromium: after five
 * wrong PINs from 127.0.0.2 (real punktfunk/1 clients pairing over TLS, the operator's wrong PIN
 * through the API) the page lists that address as locked out with the time left; a request from
 * 127.0.0.3 is listed with its address, and the PIN typed on the page pairs it. Screenshots go to
 * `test-artifacts/e2e/`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Page } from "playwright-core"
import { pair } from "../../src/client/ControlClient.js"
import type { ClientIdentity } from "../../src/client/ControlClient.js"
import { fingerprintOfPem, generateCertificate } from "../../src/lib/Certificates.js"
import { root } from "../support/HostProcess.js"
import type { HostProcess } from "../support/HostProcess.js"
import { waitFor } from "../support/TestHost.js"
import { launchChromium } from "./browser.js"
import type { LaunchedBrowser } from "./browser.js"
import { requireWebBuild, spawnConsoleHost, stopConsoleHost } from "./consoleHost.js"

const ARTIFACTS = path.join(root, "test-artifacts", "e2e")
const WAIT = 30_000

let host: HostProcess
let browser: LaunchedBrowser
let page: Page
let dir: string
let punktfunk1Port = 0
const pageErrors: Array<string> = []

const identity = async (name: string): Promise<ClientIdentity> => {
  const made = await generateCertificate(name)
  return { ...made, fingerprint: fingerprintOfPem(made.certPem) }
}

const pairingApi = (route: string, init: RequestInit = {}) =>
  fetch(`${host.url}/api/v1/pairing${route}`, {
    ...init,
    headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${host.token}` }
  })

const pendingFrom = async (address: string): Promise<string | undefined> => {
  const list = (await (await pairingApi("/pending")).json()) as ReadonlyArray<{ request_id: string; address: string }>
  return list.find((p) => p.address === address)?.request_id
}

/** A punktfunk/1 client on `address` asks to pair showing `pin`; resolves with what it was told. */
const asking = (address: string, client: ClientIdentity, pin: string) =>
  Effect.runPromise(
    Effect.either(pair({ endpoint: { host: "127.0.0.1", port: punktfunk1Port, localAddress: address }, identity: client, name: `at-${address}`, pin }))
  ).then((r) => (Either.isLeft(r) ? r.left.message : "paired"))

describe("Devices page in a real browser", () => {
  beforeAll(async () => {
    requireWebBuild()
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-e2e-devices-"))
    host = await spawnConsoleHost(dir, { PUNKTFUNK_SOURCE: "none" })
    await waitFor(() => /punktfunk\/1 control on [^\s]+:\d+/.test(host.output()), WAIT, "the punktfunk/1 control port in the host's log")
    punktfunk1Port = Number(/punktfunk\/1 control on [^\s]+:(\d+)/.exec(host.output())?.[1])
    browser = await launchChromium()
    page = await browser.context.newPage()
    page.on("pageerror", (error) => pageErrors.push(error.message))
  })

  afterAll(async () => {
    await browser?.close()
    await stopConsoleHost(host, dir)
  })

  it("lists a locked-out address with its time left, and a request with its address that the page then pairs", async () => {
    const guesser = await identity("guesser")
    for (let n = 1; n <= 5; n++) {
      const told = asking("127.0.0.2", guesser, "1111")
      await waitFor(async () => (await pendingFrom("127.0.0.2")) !== undefined, WAIT, "the guesser's request")
      const wrong = await pairingApi(`/pending/${await pendingFrom("127.0.0.2")}/pin`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ pin: "2222" })
      })
      expect(wrong.status).toBe(403)
      expect(await told).toMatch(/does not match/)
    }
    const visitor = await identity("visitor")
    const visitorTold = asking("127.0.0.3", visitor, "2468")
    await waitFor(async () => (await pendingFrom("127.0.0.3")) !== undefined, WAIT, "the visitor's request")

    await page.goto(`${host.url}/#token=${host.token}`)
    await page.getByRole("button", { name: "Devices" }).click()
    const lockout = page.getByTestId("lockout-row")
    await lockout.waitFor({ timeout: WAIT })
    expect(await lockout.getAttribute("data-address")).toBe("127.0.0.2")
    const left = Number(/^(\d+) s$/.exec((await lockout.locator("td").nth(1).textContent()) ?? "")?.[1])
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThanOrEqual(60)
    const row = page.getByTestId("pending-row")
    await row.waitFor({ timeout: WAIT })
    expect(await row.textContent()).toContain("127.0.0.3")
    await page.screenshot({ path: path.join(ARTIFACTS, "devices-lockout.png"), fullPage: true })

    await row.getByLabel("PIN shown by at-127.0.0.3").fill("2468")
    await row.getByRole("button", { name: "Pair" }).click()
    await page.getByText("Paired at-127.0.0.3 (punktfunk/1).").waitFor({ timeout: WAIT })
    expect(await visitorTold).toBe("paired")
    await page.getByTestId("client-row").waitFor({ timeout: WAIT })
    expect(pageErrors).toEqual([])
  })
})
