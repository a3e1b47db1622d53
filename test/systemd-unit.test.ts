/**
 * `contrib/systemd/punktfunk.service`, the user unit the README installs: `systemd-analyze
 * verify` in user mode accepts it (where systemd is installed), and it carries what capturing a
 * desktop and its sound needs.
 *
 * Why a temporary HOME with a stand-in command: `verify` checks that `ExecStart` exists and is
 * executable, and `%h` is the HOME of whoever runs it; the stand-in is where `npm install -g
 * --prefix ~/.local` puts the real `punktfunk-host`. Without it, verify must fail (the control
 * that shows the check looks at the command at all).
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { root } from "./support/HostProcess.js"
import { tempDir } from "./support/TestHost.js"

const unit = path.join(root, "contrib", "systemd", "punktfunk.service")

const hasSystemdAnalyze = (() => {
  try {
    execFileSync("systemd-analyze", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

const verify = (withCommand: boolean) => {
  const home = tempDir("punktfunk-unit-home-")
  const runtime = tempDir("punktfunk-unit-run-")
  if (withCommand) {
    fs.mkdirSync(path.join(home, ".local", "bin"), { recursive: true })
    fs.writeFileSync(path.join(home, ".local", "bin", "punktfunk-host"), "#!/bin/sh\nexit 0\n", { mode: 0o755 })
  }
  const ran = spawnSync("systemd-analyze", ["--user", "verify", unit], {
    env: { PATH: process.env["PATH"] ?? "", HOME: home, XDG_RUNTIME_DIR: runtime },
    cwd: home,
    encoding: "utf8"
  })
  return { code: ran.status, output: `${ran.stdout}${ran.stderr}` }
}

describe("the systemd user unit", () => {
  it("names what a desktop capture and its sound need, and starts at boot for a lingering user", () => {
    const text = fs.readFileSync(unit, "utf8")
    expect(text).toMatch(/^ExecStart=%h\/\.local\/bin\/punktfunk-host$/m)
    expect(text).toMatch(/^Environment=DISPLAY=/m)
    expect(text).toMatch(/^Environment=XAUTHORITY=/m)
    expect(text).toMatch(/^Environment=PULSE_SERVER=unix:%t\/pulse\/native$/m)
    expect(text).toMatch(/^Environment=PUNKTFUNK_SOURCE=x11$/m)
    expect(text).toMatch(/^WantedBy=default\.target$/m)
  })

  it.skipIf(!hasSystemdAnalyze)("systemd-analyze --user verify accepts it", () => {
    const ok = verify(true)
    expect(ok.output).toBe("")
    expect(ok.code).toBe(0)
    const missing = verify(false)
    expect(missing.code).not.toBe(0)
    expect(missing.output).toContain("punktfunk-host")
  })
})
