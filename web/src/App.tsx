/** The console shell: the token, then the Performance page. */
import { useCallback, useMemo, useState } from "react"
import { makeConsoleApi } from "./api/client.js"
import { forgetToken, loadToken, saveToken } from "./api/token.js"
import { TokenGate } from "./components/TokenGate.js"
import { PerformancePage } from "./pages/PerformancePage.js"

export const App = () => {
  const [token, setToken] = useState<string | null>(() => loadToken())
  const [message, setMessage] = useState<string | null>(null)
  const api = useMemo(() => (token === null ? null : makeConsoleApi(window.location.origin, token)), [token])
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
          <span className="current">Performance</span>
        </nav>
        {token !== null ? (
          <button type="button" className="link" onClick={() => onUnauthorized("Disconnected. Enter the token again.")}>
            Forget token
          </button>
        ) : null}
      </header>
      {api === null ? (
        <TokenGate
          message={message}
          onToken={(t) => {
            saveToken(t)
            setMessage(null)
            setToken(t)
          }}
        />
      ) : (
        <PerformancePage api={api} onUnauthorized={onUnauthorized} />
      )}
    </>
  )
}
