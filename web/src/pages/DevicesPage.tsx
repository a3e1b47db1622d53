/**
 * Devices: pairing requests waiting for the operator's PIN, and the paired clients.
 *
 * The operator types the PIN the *client* shows (see `src/api/Pairing.ts`): that proves the
 * person at the host can see the client's screen. A request waits only a short while on the host,
 * so the list is re-read every two seconds. The host answers the PIN only once the client has
 * finished pairing (a GameStream client proves the PIN a few round trips later), so the page says
 * it is waiting meanwhile — the request has already left the pending list by then. Unpairing asks
 * for a confirmation first, like deleting a recording: a client that is unpaired must pair again
 * with a PIN.
 */
import { useCallback, useEffect, useState } from "react"
import type { PairedClient, PendingPairing } from "../../../src/api/Pairing.js"
import type { DevicesApi } from "../api/client.js"
import { describeError } from "../api/errors.js"
import { dateTime } from "../lib/format.js"

const PIN = /^[0-9]{4,8}$/

const PendingRow = ({ request, api, onDone }: { request: PendingPairing; api: DevicesApi; onDone: (message: string | null, error: string | null) => void }) => {
  const [pin, setPin] = useState("")
  const [busy, setBusy] = useState(false)
  const submit = () => {
    if (!PIN.test(pin)) return onDone(null, "A PIN is 4 to 8 digits, exactly as the client shows it.")
    setBusy(true)
    onDone(`Waiting for ${request.name} to finish pairing…`, null)
    api.enterPin(request.request_id, pin).then(
      (client) => onDone(`Paired ${client.name} (${client.path}).`, null),
      (e: unknown) => onDone(null, describeError(e).message)
    ).finally(() => setBusy(false))
  }
  return (
    <tr data-testid="pending-row" data-id={request.request_id}>
      <td>{request.name}</td>
      <td>{request.path}</td>
      <td className="mono" title={request.fingerprint}>
        {request.fingerprint.slice(0, 16)}…
      </td>
      <td>{dateTime(request.requested_unix_ms)}</td>
      <td>
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault()
            submit()
          }}
        >
          <input aria-label={`PIN shown by ${request.name}`} inputMode="numeric" autoComplete="off" value={pin} maxLength={8} onChange={(e) => setPin(e.target.value.trim())} />
          <button type="submit" disabled={busy}>
            Pair
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              api.reject(request.request_id).then(
                () => onDone(`Refused ${request.name}.`, null),
                (e: unknown) => onDone(null, describeError(e).message)
              )
            }
          >
            Refuse
          </button>
        </form>
      </td>
    </tr>
  )
}

export const DevicesPage = ({ api }: { api: DevicesApi }) => {
  const [pending, setPending] = useState<ReadonlyArray<PendingPairing> | null>(null)
  const [clients, setClients] = useState<ReadonlyArray<PairedClient> | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [message, setMessage] = useState<string | null>(null)
  const [confirming, setConfirming] = useState<string | null>(null)
  const reload = useCallback(() => {
    Promise.all([api.pending(), api.clients()]).then(
      ([p, c]) => {
        setPending(p)
        setClients(c)
      },
      (e: unknown) => setError(describeError(e).message)
    )
  }, [api])
  useEffect(() => {
    reload()
    const timer = setInterval(reload, 2000)
    return () => clearInterval(timer)
  }, [reload])
  const done = (m: string | null, e: string | null) => {
    setMessage(m)
    setError(e)
    reload()
  }
  return (
    <main>
      <section className="panel" aria-label="pairing requests">
        <h2>Pairing requests</h2>
        <p className="muted small">Type the PIN the client shows on its screen. A request the host does not hear back on expires.</p>
        {message !== null ? (
          <p className="ok" role="status">
            {message}
          </p>
        ) : null}
        {error !== null ? (
          <p className="error" role="alert">
            {error}
          </p>
        ) : null}
        {pending === null ? (
          <p className="muted">Loading…</p>
        ) : pending.length === 0 ? (
          <p className="muted" data-testid="no-pending">
            No client is asking to pair.
          </p>
        ) : (
          <table className="grid">
            <thead>
              <tr>
                <th>client</th>
                <th>path</th>
                <th>certificate</th>
                <th>asked at</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {pending.map((r) => (
                <PendingRow key={r.request_id} request={r} api={api} onDone={done} />
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="panel" aria-label="paired clients">
        <h2>Paired clients</h2>
        {clients === null ? (
          <p className="muted">Loading…</p>
        ) : clients.length === 0 ? (
          <p className="muted">No client is paired yet.</p>
        ) : (
          <table className="grid">
            <thead>
              <tr>
                <th>client</th>
                <th>path</th>
                <th>certificate</th>
                <th>paired at</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {clients.map((c) => (
                <tr key={c.fingerprint} data-testid="client-row" data-fingerprint={c.fingerprint}>
                  <td>{c.name}</td>
                  <td>{c.path}</td>
                  <td className="mono" title={c.fingerprint}>
                    {c.fingerprint.slice(0, 16)}…
                  </td>
                  <td>{dateTime(c.paired_unix_ms)}</td>
                  <td>
                    {confirming === c.fingerprint ? (
                      <span role="alertdialog" aria-label={`unpair ${c.name}?`}>
                        Unpair? It must pair again with a PIN.{" "}
                        <button
                          type="button"
                          className="danger"
                          onClick={() =>
                            api.unpair(c.fingerprint).then(
                              () => {
                                setConfirming(null)
                                done(`Unpaired ${c.name}.`, null)
                              },
                              (e: unknown) => done(null, describeError(e).message)
                            )
                          }
                        >
                          Yes, unpair
                        </button>
                        <button type="button" onClick={() => setConfirming(null)}>
                          Keep
                        </button>
                      </span>
                    ) : (
                      <button type="button" onClick={() => setConfirming(c.fingerprint)}>
                        Unpair
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </main>
  )
}
