/**
 * A disk that refuses, for real, under the compiled host: full (a small tmpfs filled up), a
 * file-size limit (`ulimit -f`, set on the running host with `prlimit`: EFBIG), a read-only file
 * system (the tmpfs remounted `ro`, which refuses root too) and a directory the host's user may
 * not write (the host run as `nobody` through `setpriv` when the suite runs as root, since a
 * 0500 directory refuses nobody's root).
 *
 * Each time: the stop is refused with 507 and a message naming the cause, nothing half-written
 * appears under a capture's name, the capture is kept (`status.unsaved_id`, and
 * `punktfunk_capture_unsaved 1` on /metrics), and once the disk takes writes again a retried
 * stop saves it whole — every sample the live view showed, including those that arrived while
 * the journal itself could not be written.
 *
 * Variants that need what this machine lacks (mount rights, `prlimit`, `setpriv`) are skipped
 * with the reason printed; the injected-DiskOps tests in `test/save-failure.test.ts` run anywhere.
 */
import { Schema } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { Capture, CaptureMeta, StatsStatus } from "../../src/api/Stats.js"
import { mainJs, root } from "../support/HostProcess.js"
import { tempDir, waitFor } from "../support/TestHost.js"
import { checkCapturesDir, isRoot, recordSse, sh, spawnWrappedHost } from "./support.js"
import type { WrappedHost } from "./support.js"

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) {
    try {
      f()
    } catch {
      // best effort: the next cleanup still runs
    }
  }
})

const canMount = (() => {
  if (!isRoot) return false
  const probe = tempDir("punktfunk-mount-probe-")
  const ok = sh("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]).ok
  if (ok) sh("umount", [probe])
  return ok
})()
const hasPrlimit = sh("prlimit", ["--version"]).ok
const hasSetpriv = sh("setpriv", ["--version"]).ok
/** As root, whether `nobody` can read the compiled host and its dependencies (a clone under /root cannot). */
const nobodyCanRunHost =
  isRoot &&
  hasSetpriv &&
  sh("setpriv", [
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "--",
    process.execPath,
    "-e",
    `const fs = require("fs"); fs.accessSync(${JSON.stringify(mainJs)}, fs.constants.R_OK); fs.accessSync(${JSON.stringify(path.join(root, "node_modules", "effect", "package.json"))}, fs.constants.R_OK)`
  ]).ok

const mountTmpfs = (dir: string, size: string) => {
  fs.mkdirSync(dir, { recursive: true })
  const r = sh("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir])
  if (!r.ok) throw new Error(`mount tmpfs: ${r.output}`)
  cleanups.push(() => sh("umount", ["-l", dir]))
}

/** Fill the file system holding `dir` until it says ENOSPC; returns the filler's path. */
const fill = (dir: string): string => {
  const filler = path.join(dir, "filler.bin")
  const fd = fs.openSync(filler, "w")
  const chunk = Buffer.alloc(4096, 1)
  try {
    for (;;) fs.writeSync(fd, chunk)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e
  } finally {
    fs.closeSync(fd)
  }
  return filler
}

interface Refusal {
  readonly skip: string | false
  readonly code: string
  readonly words: string
  /** Prepare the directory (mounts, owners); the host's wrapper and captures dir. */
  readonly prepare: (dir: string) => { readonly capturesDir: string; readonly prefix: ReadonlyArray<string> }
  readonly refuse: (host: WrappedHost, capturesDir: string) => void
  readonly restore: (host: WrappedHost, capturesDir: string) => void
}

const plain = (dir: string) => ({ capturesDir: path.join(dir, "captures"), prefix: [] as ReadonlyArray<string> })

let filler = ""
const REFUSALS: Record<string, Refusal> = {
  "a full disk (tmpfs)": {
    skip: canMount ? false : "cannot mount a tmpfs here (needs root with mount rights)",
    code: "ENOSPC",
    words: "the disk is full",
    prepare: (dir) => {
      const capturesDir = path.join(dir, "captures")
      mountTmpfs(capturesDir, "1m")
      return { capturesDir, prefix: [] }
    },
    refuse: (_host, capturesDir) => void (filler = fill(capturesDir)),
    restore: () => fs.rmSync(filler)
  },
  "a file-size limit (ulimit -f via prlimit: EFBIG)": {
    skip: hasPrlimit ? false : "prlimit (util-linux) is not installed",
    code: "EFBIG",
    words: "larger than allowed",
    prepare: plain,
    // Soft limit only: raising it back needs no privilege.
    refuse: (host) => expect(sh("prlimit", [`--pid=${host.child.pid}`, "--fsize=4096:"]).ok).toBe(true),
    restore: (host) => expect(sh("prlimit", [`--pid=${host.child.pid}`, "--fsize=unlimited:"]).ok).toBe(true)
  },
  "a read-only file system (tmpfs remounted ro)": {
    skip: canMount ? false : "cannot mount a tmpfs here (needs root with mount rights)",
    code: "EROFS",
    words: "read-only",
    prepare: (dir) => {
      const capturesDir = path.join(dir, "captures")
      mountTmpfs(capturesDir, "4m")
      return { capturesDir, prefix: [] }
    },
    // A remount to ro is refused (EBUSY) while a file is open for writing, and the host opens
    // the journal for each append: retry until it lands between two appends.
    refuse: (_host, capturesDir) => {
      let last = sh("mount", ["-o", "remount,ro", capturesDir])
      for (let i = 0; !last.ok && i < 200; i++) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
        last = sh("mount", ["-o", "remount,ro", capturesDir])
      }
      expect(last.ok, last.output).toBe(true)
    },
    restore: (_host, capturesDir) => expect(sh("mount", ["-o", "remount,rw", capturesDir]).ok).toBe(true)
  },
  "a read-only directory (0500, the host not root)": {
    skip: !isRoot
      ? false
      : !hasSetpriv
        ? "running as root without setpriv: a 0500 directory would not refuse"
        : !nobodyCanRunHost
          ? "running as root, and the user nobody cannot read the built host (checkout under a private directory)"
          : false,
    code: "EACCES",
    words: "permission denied",
    prepare: (dir) => {
      if (!isRoot) return plain(dir)
      // The host runs as nobody; its directory must be nobody's.
      fs.chmodSync(dir, 0o755)
      fs.chownSync(dir, 65534, 65534)
      return { capturesDir: path.join(dir, "captures"), prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] }
    },
    refuse: (_host, capturesDir) => fs.chmodSync(capturesDir, 0o500),
    restore: (_host, capturesDir) => fs.chmodSync(capturesDir, 0o700)
  }
}

const status = async (host: WrappedHost) => Schema.decodeUnknownSync(StatsStatus)(await (await host.fetch("/status")).json())
const metricsText = async (host: WrappedHost) =>
  (await fetch(`${host.url}/metrics`, { headers: { authorization: `Bearer ${host.token}` } })).text()

describe("a disk that refuses the save", () => {
  for (const [name, refusal] of Object.entries(REFUSALS)) {
    it.skipIf(refusal.skip !== false)(`${name}: 507 with the cause, capture kept, saved whole once the disk takes writes`, async () => {
      const dir = tempDir("punktfunk-disk-")
      const { capturesDir, prefix } = refusal.prepare(dir)
      const host = await spawnWrappedHost(prefix, {
        PUNKTFUNK_CONFIG_DIR: dir,
        PUNKTFUNK_CAPTURES_DIR: capturesDir,
        PUNKTFUNK_SOURCE: "fake",
        PUNKTFUNK_FAKE_WINDOW_MS: "20"
      })
      cleanups.push(() => host.child.kill("SIGKILL"))
      const sse = await recordSse(host.url, host.token)
      cleanups.push(() => void sse.close())
      expect((await host.fetch("/start", { method: "POST" })).status).toBe(200)
      await waitFor(async () => (await status(host)).sample_count >= 8, 15_000, "8 samples")

      refusal.refuse(host, capturesDir)
      // Windows keep coming while the journal cannot be written either: they must not be lost.
      const before = (await status(host)).sample_count
      await waitFor(async () => (await status(host)).sample_count >= before + 8, 15_000, "8 more samples")

      const refused = await host.fetch("/stop", { method: "POST" })
      expect(refused.status).toBe(507)
      const err = (await refused.json()) as { _tag: string; id: string; code: string; message: string }
      expect(err._tag).toBe("CaptureSaveError")
      expect(err.code).toBe(refusal.code)
      expect(err.message).toContain(refusal.words)
      expect(err.message).toContain("stop again to retry")
      const kept = await status(host)
      expect(kept.armed).toBe(false)
      expect(kept.unsaved_id).toBe(err.id)
      expect(await metricsText(host)).toMatch(/^punktfunk_capture_unsaved 1$/m)
      // Nothing under the capture's name: a half file never carries a capture's name.
      expect(fs.existsSync(path.join(capturesDir, `${err.id}.json`))).toBe(false)
      expect(fs.existsSync(path.join(capturesDir, `${err.id}.meta.json`))).toBe(false)
      // Still refusing: refused again, still kept.
      expect((await host.fetch("/stop", { method: "POST" })).status).toBe(507)
      expect((await status(host)).unsaved_id).toBe(err.id)

      refusal.restore(host, capturesDir)
      const saved = await host.fetch("/stop", { method: "POST" })
      expect(saved.status, await saved.clone().text()).toBe(200)
      const meta = Schema.decodeUnknownSync(CaptureMeta)(await saved.json())
      expect(meta.id).toBe(err.id)
      const capture = Schema.decodeUnknownSync(Capture)(await (await host.fetch(`/recordings/${meta.id}`)).json())
      // Every sample the live view showed, in order, nothing more, nothing less.
      await waitFor(() => sse.samples.length >= capture.samples.length, 10_000, "the live view to catch up")
      expect(capture.samples).toEqual(sse.samples)
      expect(capture.samples.length).toBeGreaterThanOrEqual(16)
      expect(checkCapturesDir(capturesDir).map((c) => c.meta.id)).toEqual([meta.id])
      expect(fs.existsSync(path.join(capturesDir, ".journal.ndjson"))).toBe(false)
      const after = await status(host)
      expect(after.unsaved_id).toBeNull()
      expect(await metricsText(host)).toMatch(/^punktfunk_capture_unsaved 0$/m)
      await sse.close()
    })
  }
})
