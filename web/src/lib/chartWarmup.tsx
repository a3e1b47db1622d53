/**
 * The detail view's code run once, on a small made-up capture, while the page is idle after the
 * recordings list has painted — so the operator's first click on "View" does not pay for it.
 *
 * Why: the first open of a capture measured about twice a warm one (529 ms against 272 ms idle,
 * 986 against ~450 under load) with the host's first byte and the parse the same both times: the
 * difference is the first run of the chart code in the page (the browser compiling the summary,
 * breach, downsampling, Nivo and SVG code on first call, React's first mount of each component).
 * Running that code on 64 samples costs a fraction of it and leaves it compiled.
 *
 * Why in a closed shadow root, off screen, mounted and removed within one idle period: nothing of
 * it is ever visible, reachable by assistive technology, or found by the page's own queries (a
 * test or a bench that counts the charts' paths sees only the real view's). The real `DetailView`
 * is rendered (with a stub of the API that hands it the made-up capture), so a chart added to
 * the view is warmed without anyone remembering to.
 *
 * It runs at most once per page, and not at all where there is no layout (jsdom: no
 * `requestIdleCallback`, no `ResizeObserver`), where the charts would not draw anyway.
 */
import { createRoot } from "react-dom/client"
import { CAPTURE_FORMAT_VERSION } from "../../../src/api/CaptureFormat.js"
import { FIELD_NAMES } from "../../../src/api/Fields.js"
import { sampleFixture } from "../../../src/api/SampleFixture.js"
import { stagesOf, StreamKind } from "../../../src/api/Stats.js"
import type { Capture, SessionMeta, StatsSample } from "../../../src/api/Stats.js"
import type { ConsoleApi } from "../api/client.js"
import { DetailView } from "../pages/DetailView.js"

const SAMPLES = 64
const WIDTH_PX = 1000
/** Give up (and clean up) if the charts have not drawn by then: a warm-up must never linger. */
const GIVE_UP_MS = 5000

const warmupCapture = (): Capture => {
  const kind = StreamKind.literals[0]
  const stages = stagesOf(kind)
  const session = (session_id: string): SessionMeta => ({
    session_id, kind, width: 1280, height: 720, fps: 60, codec: "h264", client: "warm-up", encoder_backend: "none",
    gpu: "none", stages, measured: FIELD_NAMES
  })
  const samples: Array<StatsSample> = []
  for (let i = 0; i < SAMPLES; i++) {
    const p50 = 1000 + (i % 7) * 100
    samples.push(sampleFixture({
      t_ms: i * 2000,
      session_id: i < SAMPLES / 2 ? "s1" : "s2",
      stages: stages.map((name) => ({ name, p50_us: p50, p99_us: p50 * 2, max_us: p50 * 3, mean_us: p50 })),
      fps: i % 9 === 0 ? 50 : 60, mbps: 10 + (i % 5), bitrate_kbps: 10_000, frames_dropped: i % 11 === 0 ? 1 : 0,
      rtt_us: 900 + i, host_p50_us: p50 * stages.length, host_p99_us: p50 * stages.length * 2
    }))
  }
  return {
    meta: {
      format_version: CAPTURE_FORMAT_VERSION, id: "warm-up", label: "", started_unix_ms: 0, duration_ms: (SAMPLES - 1) * 2000,
      kind, width: 1280, height: 720, fps: 60, codec: "h264", client: "warm-up", encoder_backend: "none", gpu: "none",
      sample_count: SAMPLES, truncated: false, recovered: false, measured: FIELD_NAMES, sessions: [session("s1"), session("s2")],
      imported: false
    },
    samples,
    markers: [{ t_ms: 20_000, label: "warm-up", kind: "operator" }]
  }
}

const refuse = () => Promise.reject(new Error("not available while warming up"))

const stubApi = (capture: Capture): ConsoleApi => ({
  status: refuse, start: refuse, stop: refuse, live: refuse, mark: refuse, list: refuse,
  get: async () => capture,
  exportText: refuse, label: refuse, remove: refuse, liveEvents: refuse
})

let scheduled = false

const warmUp = () => {
  const host = document.createElement("div")
  host.setAttribute("aria-hidden", "true")
  host.style.cssText = `position:absolute;left:-${WIDTH_PX * 2}px;top:0;width:${WIDTH_PX}px;visibility:hidden;pointer-events:none;contain:strict;height:2000px`
  const shadow = host.attachShadow({ mode: "closed" })
  const mount = document.createElement("div")
  shadow.appendChild(mount)
  document.body.appendChild(host)
  const root = createRoot(mount)
  let done = false
  const finish = () => {
    if (done) return
    done = true
    observer.disconnect()
    clearTimeout(timer)
    root.unmount()
    host.remove()
  }
  // The stacked chart's series is the last thing the view draws from the data: once it is
  // there (and painted a frame later), every chart has run.
  const observer = new MutationObserver(() => {
    if (mount.querySelector('[data-testid="stage-chart"] [data-testid="stack-series"] path') !== null) {
      observer.disconnect()
      requestAnimationFrame(() => requestAnimationFrame(finish))
    }
  })
  observer.observe(mount, { childList: true, subtree: true })
  const timer = setTimeout(finish, GIVE_UP_MS)
  root.render(<DetailView api={stubApi(warmupCapture())} id="warm-up" onBack={() => undefined} />)
}

/** Warm the detail view's code once the page is idle (at most once per page load). */
export const scheduleChartWarmup = (): void => {
  if (scheduled || typeof window.requestIdleCallback !== "function" || typeof ResizeObserver === "undefined") return
  scheduled = true
  window.requestIdleCallback(warmUp, { timeout: 2000 })
}
