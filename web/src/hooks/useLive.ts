/**
 * The armed capture as the console sees it: the host's status (polled once a second, so elapsed
 * time comes from the host's clock, not the page's) and the live samples from the event stream.
 *
 * Why both a poll and the stream: the stream carries samples and arm/stop as they happen; the
 * poll keeps elapsed time and sample count ticking between windows and notices a host restart.
 * A page opened mid-capture backfills from `GET /live` once, then follows the stream. Only the
 * latest `keepMs` of samples are kept: the live view shows the last minutes, not the whole run.
 *
 * The samples are not React state of the page: they sit in a `LiveFeed` that appends what arrived
 * once per animation frame and notifies only the components that read it (the live view), so a
 * window arriving does not re-render the capture control, the recordings list or a detail view.
 */
import { useCallback, useEffect, useRef, useState } from "react"
import type { Marker } from "../../../src/api/Markers.js"
import type { SessionMeta, StatsStatus } from "../../../src/api/Stats.js"
import type { ConsoleApi } from "../api/client.js"
import { describeError } from "../api/errors.js"
import { LiveFeed } from "../lib/liveFeed.js"

export interface LiveState {
  readonly status: StatsStatus | null
  /** The kept samples; read with `useLiveSamples`, so only the live view re-renders as they arrive. */
  readonly feed: LiveFeed
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
  const [sessions, setSessions] = useState<ReadonlyArray<SessionMeta>>([])
  const [markers, setMarkers] = useState<ReadonlyArray<Marker>>([])
  const [error, setError] = useState<string | null>(null)
  const [streamConnected, setConnected] = useState(false)
  const armedRef = useRef<boolean | null>(null)
  const [tick, setTick] = useState(0)
  const [feed] = useState(() => new LiveFeed(keepMs))
  feed.keepMs = keepMs

  const onStatus = (next: StatsStatus) => {
    const wasArmed = armedRef.current
    armedRef.current = next.armed
    setStatus(next)
    if (next.armed && wasArmed === false) {
      // A new capture: start the live view afresh.
      feed.replace([])
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
    const connect = async () => {
      while (!stopped) {
        try {
          const snapshot = await api.live()
          if (snapshot !== null && !stopped) {
            onStatus(snapshot.status)
            setSessions(snapshot.sessions)
            setMarkers(snapshot.markers ?? [])
            feed.replace(snapshot.samples)
          }
          setConnected(true)
          await api.liveEvents(controller.signal, (message) => {
            if (message.type === "sample") feed.push(message.sample)
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
      feed.cancel()
    }
  }, [api, feed, addMarker])

  return { status, feed, sessions, markers, addMarker, error, streamConnected, refresh: () => setTick((t) => t + 1) }
}
