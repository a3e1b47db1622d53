/**
 * Debian's Chromium, headless, driven by playwright-core (no browser download), for the console's
 * benches and its end-to-end tests alike (`test/e2e/browser.ts` hands this to the tests). Each
 * launch gets a fresh profile directory so no state leaks between runs, and the flags keep it from
 * phoning home or spending the CI machine's two cores on background work.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { chromium } from "playwright-core"
import type { BrowserContext } from "playwright-core"

export const CHROMIUM = "/usr/bin/chromium"

export interface LaunchedBrowser {
  readonly context: BrowserContext
  /** The profile directory (the browser process names it on its command line). */
  readonly profile: string
  /** Closes the browser and removes its profile. */
  readonly close: () => Promise<void>
}

/**
 * `ignoreHTTPSErrors`: for the console over HTTPS with the host's self-signed certificate; the
 * test compares the served certificate's fingerprint itself, as an operator would.
 */
export const launchChromium = async (options: { readonly ignoreHTTPSErrors?: boolean } = {}): Promise<LaunchedBrowser> => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-chromium-"))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
    viewport: { width: 1400, height: 1000 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync"
    ]
  })
  return {
    context,
    profile,
    close: async () => {
      await context.close().catch(() => undefined)
      fs.rmSync(profile, { recursive: true, force: true })
    }
  }
}
