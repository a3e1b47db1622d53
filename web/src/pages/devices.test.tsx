import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react"
import { afterEach, describe, expect, it, vi } from "vitest"
import type { PairedClient, PairingLockout, PendingPairing } from "../../../src/api/Pairing.js"
import type { DevicesApi } from "../api/client.js"
import { ApiFailure } from "../api/errors.js"
import { DevicesPage } from "./DevicesPage.js"

afterEach(cleanup)

const fp = (c: string) => c.repeat(64)

const fakeDevices = () => {
  const calls: Array<string> = []
  let pending: Array<PendingPairing> = [
    { request_id: "r1", path: "punktfunk1", name: "living-room", fingerprint: fp("a"), address: "192.168.1.20", requested_unix_ms: 0 }
  ]
  let lockouts: Array<PairingLockout> = []
  let clients: Array<PairedClient> = [{ fingerprint: fp("b"), path: "punktfunk1", name: "laptop", paired_unix_ms: 0 }]
  const api: DevicesApi = {
    pending: async () => pending,
    clients: async () => clients,
    lockouts: async () => lockouts,
    enterPin: async (id, pin) => {
      calls.push(`pin ${id} ${pin}`)
      if (pin !== "1234") throw new ApiFailure("The PIN did not match. The client must ask to pair again.", 403, "WrongPin")
      const request = pending.find((p) => p.request_id === id)!
      pending = pending.filter((p) => p.request_id !== id)
      const client = { fingerprint: request.fingerprint, path: request.path, name: request.name, paired_unix_ms: 1 }
      clients = [...clients, client]
      return client
    },
    reject: async (id) => {
      calls.push(`reject ${id}`)
      pending = pending.filter((p) => p.request_id !== id)
    },
    unpair: async (f) => {
      calls.push(`unpair ${f}`)
      clients = clients.filter((c) => c.fingerprint !== f)
    }
  }
  return { api, calls, setLockouts: (l: Array<PairingLockout>) => (lockouts = l) }
}

describe("DevicesPage", () => {
  it("checks the PIN's form before sending, says a wrong PIN in words, pairs with the right one", async () => {
    const { api, calls } = fakeDevices()
    render(<DevicesPage api={api} />)
    const row = await screen.findByTestId("pending-row")
    const pin = within(row).getByLabelText("PIN shown by living-room")
    fireEvent.change(pin, { target: { value: "12" } })
    await act(async () => fireEvent.click(within(row).getByRole("button", { name: "Pair" })))
    expect((await screen.findByRole("alert")).textContent).toContain("4 to 8 digits")
    expect(calls).toEqual([])
    fireEvent.change(pin, { target: { value: "9999" } })
    await act(async () => fireEvent.click(within(row).getByRole("button", { name: "Pair" })))
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("did not match"))
    fireEvent.change(pin, { target: { value: "1234" } })
    await act(async () => fireEvent.click(within(row).getByRole("button", { name: "Pair" })))
    await screen.findByText("Paired living-room (punktfunk/1).")
    await screen.findByTestId("no-pending")
    await waitFor(() => expect(screen.getAllByTestId("client-row")).toHaveLength(2))
  })

  it("says it waits while the host waits for the client to finish pairing", async () => {
    const { api } = fakeDevices()
    let finish: () => void = () => undefined
    const enterPin = api.enterPin
    const slow: DevicesApi = {
      ...api,
      enterPin: (id, pin) => new Promise<void>((resolve) => (finish = resolve)).then(() => enterPin(id, pin))
    }
    render(<DevicesPage api={slow} />)
    const row = await screen.findByTestId("pending-row")
    fireEvent.change(within(row).getByLabelText("PIN shown by living-room"), { target: { value: "1234" } })
    await act(async () => fireEvent.click(within(row).getByRole("button", { name: "Pair" })))
    expect((await screen.findByRole("status")).textContent).toContain("Waiting for living-room to finish pairing")
    await act(async () => finish())
    await screen.findByText("Paired living-room (punktfunk/1).")
  })

  it("shows where a request comes from", async () => {
    const { api } = fakeDevices()
    render(<DevicesPage api={api} />)
    const row = await screen.findByTestId("pending-row")
    expect(within(row).getByText("192.168.1.20")).toBeTruthy()
  })

  it("lists locked-out addresses with the time left, counting down, and drops them when the host does", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    try {
      const { api, setLockouts } = fakeDevices()
      setLockouts([{ address: "192.168.1.66", locked_until_unix_ms: 0, remaining_ms: 42_500 }])
      render(<DevicesPage api={api} />)
      const row = await screen.findByTestId("lockout-row")
      expect(row.getAttribute("data-address")).toBe("192.168.1.66")
      expect(row.textContent).toContain("42 s")
      // Between the host's answers the page counts down on its own.
      setLockouts([{ address: "192.168.1.66", locked_until_unix_ms: 0, remaining_ms: 30_000 }])
      await act(async () => void vi.advanceTimersByTime(2100))
      await waitFor(() => expect(screen.getByTestId("lockout-row").textContent).toContain("30 s"))
      await act(async () => void vi.advanceTimersByTime(1500))
      expect(screen.getByTestId("lockout-row").textContent).toContain("29 s")
      setLockouts([])
      await act(async () => void vi.advanceTimersByTime(2100))
      await waitFor(() => expect(screen.queryAllByTestId("lockout-row")).toHaveLength(0))
      expect(screen.queryByRole("region", { name: "locked-out addresses" })).toBeNull()
    } finally {
      vi.useRealTimers()
    }
  })

  it("unpairs only after the confirmation", async () => {
    const { api, calls } = fakeDevices()
    render(<DevicesPage api={api} />)
    const row = await screen.findByTestId("client-row")
    fireEvent.click(within(row).getByRole("button", { name: "Unpair" }))
    fireEvent.click(within(row).getByRole("button", { name: "Keep" }))
    expect(calls).toEqual([])
    fireEvent.click(within(row).getByRole("button", { name: "Unpair" }))
    await act(async () => fireEvent.click(within(row).getByRole("button", { name: "Yes, unpair" })))
    await waitFor(() => expect(calls).toEqual([`unpair ${fp("b")}`]))
    await waitFor(() => expect(screen.queryAllByTestId("client-row")).toHaveLength(0))
  })
})
