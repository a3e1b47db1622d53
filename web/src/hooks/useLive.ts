/**
 * The armed capture as the console sees it: the host's status (polled once a second, so elapsed
 * time comes from the host's clock, not the page's) and the live samples from the event stream.
 *
 * Why both a poll and the stream: the stream carries samples and arm/stop as they happen; the
 * poll keeps elapsed time and sample count ticking between windows and notices a host restart.
 * A page opened mid-capture backfills from `GET /live` once, then follows the stream. Only the
 * latest `keepMs` of samples are kept: the live view shows the last minutes, not the whole run.
 */
import { useCallback, useEffect, useRef, useState } from "react"
import type { Marker } from "../../../src/api/Markers.js"
import type { SessionMeta, StatsSample, StatsStatus } from "../../../src/api/Stats.js"
import type { ConsoleApi } from "../api/client.js"
import { describeError } from "../api/errors.js"

export interface LiveState {
  readonly status: StatsStatus | null
  readonly samples: ReadonlyArray<StatsSample>
  readonly sessions: ReadonlyArray<SessionMeta>
  /** The armed capture's markers so far (the operator's and the host's), in time order. */
  readonly markers: ReadonlyArray<Marker>
  readonly error: string | null
  readonly streamConnected: boolean
  /** Add a marker this page just made (the event stream brings it too; it is kept once). */
  readonly addMarker: (marker: Marker) => void
  /** Re-read the status now (after arm or stop). */
  readonly refresh: () => void
}

export const useLive = (api: ConsoleApi, keepMs = 5 * 60_000, pollMs = 1000): LiveState => {
  const [status, setStatus] = useState<StatsStatus | null>(null)
  const [samples, setSamples] = useState<ReadonlyArray<StatsSample>>([])
  const [sessions, setSessions] = useState<ReadonlyArray<SessionMeta>>([])
  const [markers, setMarkers] = useState<ReadonlyArray<Marker>>([])
  const [error, setError] = useState<string | null>(null)
  const [streamConnected, setConnected] = useState(false)
  const armedRef = useRef<boolean | null>(null)
  const [tick, setTick] = useState(0)

  const onStatus = (next: StatsStatus) => {
    const wasArmed = armedRef.current
    armedRef.current = next.armed
    setStatus(next)
    if (next.armed && wasArmed === false) {
      // A new capture: start the live view afresh.
      setSamples([])
      setSessions([])
      setMarkers([])
    }
  }

  // The snapshot, the stream and the page's own Mark button may each bring one marker: keep one.
  const addMarker = useCallback(
    (marker: Marker) =>
      setMarkers((prev) =>
        prev.some((m) => m.t_ms === marker.t_ms && m.label === marker.label && m.kind === marker.kind)
          ? prev
          : [...prev, marker].sort((a, b) => a.t_ms - b.t_ms)
      ),
    []
  )

  useEffect(() => {
    let cancelled = false
    const poll = async () => {
      try {
        const next = await api.status()
        if (!cancelled) {
          onStatus(next)
          setError(null)
        }
      } catch (e) {
        if (!cancelled) setError(describeError(e).message)
      }
    }
    void poll()
    const timer = setInterval(() => void poll(), pollMs)
    return () => {
      cancelled = true
      clearInterval(timer)
    }
  }, [api, pollMs, tick])

  useEffect(() => {
    const controller = new AbortController()
    let stopped = false
    const append = (sample: StatsSample) =>
      setSamples((prev) => {
        const cutoff = sample.t_ms - keepMs
        const kept = prev.length > 0 && (prev[0]?.t_ms ?? 0) < cutoff ? prev.filter((s) => s.t_ms >= cutoff) : prev
        const last = kept[kept.length - 1]
        // A sample at or before the last one comes from a new capture (t_ms restarts at arm).
        return last !== undefined && sample.t_ms < last.t_ms ? [sample] : [...kept, sample]
      })
    const connect = async () => {
      while (!stopped) {
        try {
          const snapshot = await api.live()
          if (snapshot !== null && !stopped) {
            onStatus(snapshot.status)
            setSessions(snapshot.sessions)
            setMarkers(snapshot.markers ?? [])
            const last = snapshot.samples[snapshot.samples.length - 1]
            const cutoff = (last?.t_ms ?? 0) - keepMs
            setSamples(snapshot.samples.filter((s) => s.t_ms >= cutoff))
          }
          setConnected(true)
          await api.liveEvents(controller.signal, (message) => {
            if (message.type === "sample") append(message.sample)
            else if (message.type === "status") onStatus(message.status)
            else if (message.type === "marker") addMarker(message.marker)
            else setSessions((prev) => [...prev.filter((s) => s.session_id !== message.session.session_id), message.session])
          })
        } catch (e) {
          if (stopped) return
          setError(describeError(e).message)
        }
        setConnected(false)
        if (stopped) return
        await new Promise((r) => setTimeout(r, 2000))
      }
    }
    void connect()
    return () => {
      stopped = true
      controller.abort()
    }
  }, [api, keepMs, addMarker])

  return { status, samples, sessions, markers, addMarker, error, streamConnected, refresh: () => setTick((t) => t + 1) }
}
