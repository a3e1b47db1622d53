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
 *
 * Addresses the host refuses for now (too many wrong PINs came from them) are listed with the
 * time left, counted down here each second from the host's own figure: the browser's clock may
 * differ from the host's, so the page never compares the two.
 */
import { useCallback, useEffect, useState } from "react"
import type { PairedClient, PairingLockout, PendingPairing } from "../../../src/api/Pairing.js"
import type { DevicesApi } from "../api/client.js"
import { describeError } from "../api/errors.js"
import { dateTime } from "../lib/format.js"
import { ConfirmAction } from "../components/ConfirmAction.js"
import { ErrorNote, StatusNote } from "../components/Notes.js"
import { TableHead } from "../components/TableHead.js"
import { pathOf } from "../../../src/api/Paths.js"

const PIN = /^[0-9]{4,8}$/

/** A client's certificate fingerprint, its first 16 hex digits shown and the whole on hover. */
const FingerprintCell = ({ fingerprint }: { fingerprint: string }) => (
  <td className="mono" title={fingerprint}>
    {fingerprint.slice(0, 16)}…
  </td>
)

const PendingRow = ({ request, api, onDone }: { request: PendingPairing; api: DevicesApi; onDone: (message: string | null, error: string | null) => void }) => {
  const [pin, setPin] = useState("")
  const [busy, setBusy] = useState(false)
  const submit = () => {
    if (!PIN.test(pin)) return onDone(null, "A PIN is 4 to 8 digits, exactly as the client shows it.")
    setBusy(true)
    onDone(`Waiting for ${request.name} to finish pairing…`, null)
    api.enterPin(request.request_id, pin).then(
      (client) => onDone(`Paired ${client.name} (${pathOf(client.path).title}).`, null),
      (e: unknown) => onDone(null, describeError(e).message)
    ).finally(() => setBusy(false))
  }
  return (
    <tr data-testid="pending-row" data-id={request.request_id}>
      <td>{request.name}</td>
      <td>{pathOf(request.path).title}</td>
      <td className="mono">{request.address}</td>
      <FingerprintCell fingerprint={request.fingerprint} />
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

/** Whole seconds left, never below 1 while the lockout is listed (0 s would read as "over"). */
const secondsLeft = (ms: number) => Math.max(1, Math.floor(ms / 1000))

const Lockouts = ({ lockouts }: { lockouts: { readonly list: ReadonlyArray<PairingLockout>; readonly at: number } }) => {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(timer)
  }, [])
  const live = lockouts.list
    .map((l) => ({ address: l.address, left: l.remaining_ms - Math.max(0, now - lockouts.at) }))
    .filter((l) => l.left > 0)
  if (live.length === 0) return null
  return (
    <section className="panel" aria-label="locked-out addresses">
      <h2>Locked-out addresses</h2>
      <p className="muted small">Too many wrong PINs came from these addresses: the host refuses pairing from them until the time runs out.</p>
      <table className="grid">
        <TableHead columns={["address", "time left"]} />
        <tbody>
          {live.map((l) => (
            <tr key={l.address} data-testid="lockout-row" data-address={l.address}>
              <td className="mono">{l.address}</td>
              <td>{secondsLeft(l.left)} s</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

export const DevicesPage = ({ api }: { api: DevicesApi }) => {
  const [pending, setPending] = useState<ReadonlyArray<PendingPairing> | null>(null)
  const [lockouts, setLockouts] = useState<{ readonly list: ReadonlyArray<PairingLockout>; readonly at: number }>({ list: [], at: 0 })
  const [clients, setClients] = useState<ReadonlyArray<PairedClient> | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [message, setMessage] = useState<string | null>(null)
  const [confirming, setConfirming] = useState<string | null>(null)
  const reload = useCallback(() => {
    Promise.all([api.pending(), api.clients(), api.lockouts()]).then(
      ([p, c, l]) => {
        setPending(p)
        setClients(c)
        setLockouts({ list: l, at: Date.now() })
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
        <p className="muted small">
          Type the PIN the client shows on its screen. A request waits two minutes, then its client is told to ask again.
        </p>
        <StatusNote text={message} />
        <ErrorNote text={error} />
        {pending === null ? (
          <p className="muted">Loading…</p>
        ) : pending.length === 0 ? (
          <p className="muted" data-testid="no-pending">
            No client is asking to pair.
          </p>
        ) : (
          <table className="grid">
            <TableHead columns={["client", "path", "from", "certificate", "asked at", ""]} />
            <tbody>
              {pending.map((r) => (
                <PendingRow key={r.request_id} request={r} api={api} onDone={done} />
              ))}
            </tbody>
          </table>
        )}
      </section>
      <Lockouts lockouts={lockouts} />
      <section className="panel" aria-label="paired clients">
        <h2>Paired clients</h2>
        {clients === null ? (
          <p className="muted">Loading…</p>
        ) : clients.length === 0 ? (
          <p className="muted">No client is paired yet.</p>
        ) : (
          <table className="grid">
            <TableHead columns={["client", "path", "certificate", "paired at", ""]} />
            <tbody>
              {clients.map((c) => (
                <tr key={c.fingerprint} data-testid="client-row" data-fingerprint={c.fingerprint}>
                  <td>{c.name}</td>
                  <td>{pathOf(c.path).title}</td>
                  <FingerprintCell fingerprint={c.fingerprint} />
                  <td>{dateTime(c.paired_unix_ms)}</td>
                  <td>
                    <ConfirmAction
                      asking={confirming === c.fingerprint}
                      action="Unpair"
                      question="Unpair? It must pair again with a PIN."
                      yes="Yes, unpair"
                      dialogLabel={`unpair ${c.name}?`}
                      onAsk={() => setConfirming(c.fingerprint)}
                      onKeep={() => setConfirming(null)}
                      onYes={() =>
                        api.unpair(c.fingerprint).then(
                          () => {
                            setConfirming(null)
                            done(`Unpaired ${c.name}.`, null)
                          },
                          (e: unknown) => done(null, describeError(e).message)
                        )
                      }
                    />
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
