/**
 * The Performance page: capture control and live view on top, then the recordings; a recording
 * opens its detail, two or more open the compare view.
 */
import { useCallback, useEffect, useState } from "react"
import type { CaptureListItem } from "../../../src/api/Stats.js"
import type { ConsoleApi } from "../api/client.js"
import { describeError } from "../api/errors.js"
import { CaptureControl } from "../components/CaptureControl.js"
import { CaptureUpload } from "../components/CaptureUpload.js"
import { LiveFeedView } from "../components/LiveView.js"
import { RecordingsList } from "../components/RecordingsList.js"
import { useLive } from "../hooks/useLive.js"
import { scheduleChartWarmup } from "../lib/chartWarmup.js"
import { CompareView } from "./CompareView.js"
import { DetailView } from "./DetailView.js"

type View = { readonly kind: "list" } | { readonly kind: "detail"; readonly id: string } | { readonly kind: "compare"; readonly ids: ReadonlyArray<string> }

export const PerformancePage = ({ api, onUnauthorized }: { api: ConsoleApi; onUnauthorized: (message: string) => void }) => {
  const live = useLive(api)
  const [view, setView] = useState<View>({ kind: "list" })
  const [recordings, setRecordings] = useState<ReadonlyArray<CaptureListItem> | null>(null)
  const [listError, setListError] = useState<string | null>(null)
  const reload = useCallback(() => {
    api.list().then(
      (list) => {
        setRecordings([...list].sort((a, b) => b.started_unix_ms - a.started_unix_ms))
        setListError(null)
      },
      (e: unknown) => {
        const failure = describeError(e)
        if (failure.status === 401) onUnauthorized(failure.message)
        setListError(failure.message)
      }
    )
  }, [api, onUnauthorized])
  useEffect(reload, [reload])
  // Once the list has painted, the detail view's code is run on idle (`chartWarmup.tsx`), so the
  // first capture opened opens as fast as the next.
  const listed = recordings !== null
  useEffect(() => {
    if (listed) scheduleChartWarmup()
  }, [listed])
  // A capture that stops (here or from the CLI) appears in the list without a manual refresh.
  const armed = live.status?.armed
  useEffect(() => {
    if (armed === false) reload()
  }, [armed, reload])
  return (
    <main>
      <CaptureControl
        api={api}
        status={live.status}
        sessions={live.sessions}
        error={live.error}
        onChanged={() => {
          live.refresh()
          reload()
        }}
        onMarked={live.addMarker}
      />
      {live.status?.armed === true ? <LiveFeedView feed={live.feed} sessions={live.sessions} markers={live.markers} /> : null}
      {view.kind === "list" ? <CaptureUpload api={api} onImported={reload} /> : null}
      {view.kind === "list" ? (
        <RecordingsList
          api={api}
          recordings={recordings}
          error={listError}
          onView={(id) => setView({ kind: "detail", id })}
          onCompare={(ids) => setView({ kind: "compare", ids })}
          onChanged={reload}
        />
      ) : view.kind === "detail" ? (
        <DetailView api={api} id={view.id} onBack={() => setView({ kind: "list" })} />
      ) : (
        <CompareView api={api} ids={view.ids} onBack={() => setView({ kind: "list" })} />
      )}
    </main>
  )
}
