/** The console shell: the token, then the Performance and Devices pages. */
import { useCallback, useMemo, useState } from "react"
import { makeConsoleApi, makeDevicesApi } from "./api/client.js"
import { forgetToken, loadToken, saveToken } from "./api/token.js"
import { TokenGate } from "./components/TokenGate.js"
import { DevicesPage } from "./pages/DevicesPage.js"
import { PerformancePage } from "./pages/PerformancePage.js"

type Page = "performance" | "devices"

export const App = () => {
  const [token, setToken] = useState<string | null>(() => loadToken())
  const [message, setMessage] = useState<string | null>(null)
  const [page, setPage] = useState<Page>("performance")
  const apis = useMemo(
    () =>
      token === null
        ? null
        : { stats: makeConsoleApi(window.location.origin, token), devices: makeDevicesApi(window.location.origin, token) },
    [token]
  )
  const onUnauthorized = useCallback((text: string) => {
    forgetToken()
    setToken(null)
    setMessage(text)
  }, [])
  return (
    <>
      <header className="top">
        <h1>punktfunk</h1>
        <nav>
          {(["performance", "devices"] as const).map((p) => (
            <button key={p} type="button" aria-current={page === p ? "page" : undefined} onClick={() => setPage(p)}>
              {p === "performance" ? "Performance" : "Devices"}
            </button>
          ))}
        </nav>
        {token !== null ? (
          <button type="button" className="link" onClick={() => onUnauthorized("Disconnected. Enter the token again.")}>
            Forget token
          </button>
        ) : null}
      </header>
      {apis === null ? (
        <TokenGate
          message={message}
          onToken={(t) => {
            saveToken(t)
            setMessage(null)
            setToken(t)
          }}
        />
      ) : (
        <>
          {/* Performance stays mounted while Devices is shown, so an open recording and the live
              view are still there on the way back. */}
          <div hidden={page !== "performance"}>
            <PerformancePage api={apis.stats} onUnauthorized={onUnauthorized} />
          </div>
          {page === "devices" ? <DevicesPage api={apis.devices} /> : null}
        </>
      )}
    </>
  )
}
