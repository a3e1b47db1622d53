/**
 * `PUNKTFUNK_FRAME_PRIORITY=realtime` (src/native/thread_priority.h), read where an operator
 * would look: the scheduling policy of the process's threads in /proc. With permission, the
 * frame thread and the encoder's workers run SCHED_RR and the JavaScript thread stays normal;
 * without it (CAP_SYS_NICE dropped), the session runs and says which permission is missing; a
 * loop that cannot keep up gives real-time back instead of starving Node.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { afterEach, describe, expect, it } from "vitest"
import { PATHS } from "../../src/api/Paths.js"
import { addonPath } from "../../src/native/addonPath.js"
import { nativeModule } from "../../src/native/binding.js"
import type { FramePriority, NativeOptions, NativeSession, NativeWindow } from "../../src/native/binding.js"

const SCHED_RR = 2

/** name → scheduling policies of this process's threads (field 41 of /proc/self/task/N/stat). */
const threadPolicies = (): Array<{ readonly name: string; readonly policy: number }> =>
  fs.readdirSync("/proc/self/task").flatMap((tid) => {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8")
      // The name is in parentheses and may hold spaces; the fields after it are space-separated.
      const close = stat.lastIndexOf(")")
      const name = stat.slice(stat.indexOf("(") + 1, close)
      const policy = Number(stat.slice(close + 2).split(" ")[41 - 3])
      return [{ name, policy }]
    } catch {
      return [] // the thread ended between the listing and the read
    }
  })

const options = (overrides: Partial<NativeOptions>): NativeOptions => ({
  stages: PATHS.punktfunk1.stages,
  window_ms: 500,
  source: "synthetic",
  width: 320,
  height: 240,
  fps: 30,
  codec: "h264",
  encoder: "libx264",
  preset: "ultrafast",
  tune: "zerolatency",
  bitrate_kbps: 2000,
  perf: true,
  ...overrides
})

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

let open: NativeSession | undefined
afterEach(() => {
  open?.close()
  open = undefined
})

const start = (overrides: Partial<NativeOptions>) => {
  const windows: Array<NativeWindow> = []
  open = new (nativeModule().NativeSession)(options(overrides), (w) => void windows.push(w))
  return { session: open, windows }
}

const waitFor = async (what: string, done: () => boolean, seconds = 30) => {
  const until = Date.now() + seconds * 1000
  while (!done()) {
    if (Date.now() > until) throw new Error(`${what} did not happen within ${seconds} s`)
    await sleep(50)
  }
}

// Real-time needs CAP_SYS_NICE (root has it) or an RLIMIT_RTPRIO of at least 10.
const permitted = (() => {
  const probe = new (nativeModule().NativeSession)(options({ priority: "realtime" }), () => undefined)
  const granted = probe.info().priority === "realtime"
  probe.close()
  return granted
})()

describe("frame priority", () => {
  it.runIf(permitted)("realtime: the frame thread and the encoder's threads run SCHED_RR, the JavaScript thread does not", async () => {
    const { session, windows } = start({ priority: "realtime" })
    expect(session.info()).toMatchObject({ priority: "realtime", priority_note: "" })
    await waitFor("two windows", () => windows.length >= 2)
    const threads = threadPolicies()
    expect(threads.find((t) => t.name === "pf-frame")?.policy).toBe(SCHED_RR)
    // libx264's slice threads: created inside the encoder's open, they inherited the lift.
    expect(threads.filter((t) => t.policy === SCHED_RR).length).toBeGreaterThan(1)
    // The first task is the process's main (JavaScript) thread: back at normal.
    const main = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8")
    expect(Number(main.slice(main.lastIndexOf(")") + 2).split(" ")[41 - 3])).toBe(0)
    expect(windows.every((w) => w.realtime)).toBe(true)
    session.close()
    open = undefined
    expect(threadPolicies().filter((t) => t.policy === SCHED_RR)).toEqual([])
  })

  it("normal (the default): no thread of the session runs real-time", async () => {
    const { session, windows } = start({})
    expect(session.info()).toMatchObject({ priority: "normal", priority_note: "" })
    await waitFor("two windows", () => windows.length >= 2)
    expect(threadPolicies().filter((t) => t.policy === SCHED_RR)).toEqual([])
    expect(windows.some((w) => w.realtime)).toBe(false)
  })

  it("an unknown priority is refused by name", () => {
    expect(() => start({ priority: "urgent" as FramePriority })).toThrow(/unknown frame priority 'urgent'/)
  })

  it.runIf(permitted)("a loop that keeps missing its deadlines gives real-time up and runs on at normal priority", async () => {
    // 4K at 120 fps with libx264 is far beyond two cores: every window skips deadlines.
    const { session, windows } = start({ priority: "realtime", width: 3840, height: 2160, fps: 120, bitrate_kbps: 20_000 })
    expect(session.info().priority).toBe("realtime")
    await waitFor("a window at normal priority", () => windows.some((w) => !w.realtime))
    const late = windows.findIndex((w) => !w.realtime)
    expect(windows.slice(0, late + 1).every((w) => w.frames_dropped > 0)).toBe(true)
    expect(threadPolicies().filter((t) => t.policy === SCHED_RR)).toEqual([])
    await waitFor("another window", () => windows.length > late + 1)
    expect(windows[windows.length - 1]!.realtime).toBe(false)
  })

  const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => fs.existsSync(p))
  it.runIf(setpriv !== undefined && process.getuid?.() === 0)(
    "without CAP_SYS_NICE the session streams at normal priority and names the missing permission",
    () => {
      const script = [
        `const a = require(${JSON.stringify(addonPath("", "punktfunk_native"))})`,
        `const s = new a.NativeSession(${JSON.stringify(options({ priority: "realtime" }))}, () => {})`,
        `console.log(JSON.stringify(s.info()))`,
        `s.close()`
      ].join("\n")
      // Under `npm run test:asan` Node needs the sanitizer runtime preloaded, and the suite's
      // child-process wrapper drops LD_PRELOAD for any program but Node (setpriv here): hand it
      // on through env(1).
      const preload = process.env["LD_PRELOAD"]
      const node = preload === undefined ? [process.execPath] : ["/usr/bin/env", `LD_PRELOAD=${preload}`, process.execPath]
      const out = execFileSync(setpriv!, ["--inh-caps=-sys_nice", "--bounding-set=-sys_nice", ...node, "-e", script], {
        encoding: "utf8",
        timeout: 30_000
      })
      const info = JSON.parse(out.trim().split("\n").pop()!) as { priority: string; priority_note: string }
      expect(info.priority).toBe("normal")
      expect(info.priority_note).toMatch(/CAP_SYS_NICE/)
      expect(info.priority_note).toMatch(/RLIMIT_RTPRIO/)
    }
  )
})
