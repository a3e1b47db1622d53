/** A host in memory for component tests: each method records its calls and answers from state. */
import { captureListItem } from "../../../src/api/Stats.js"
import type { Capture, CaptureMeta, StatsStatus } from "../../../src/api/Stats.js"
import type { ConsoleApi } from "../api/client.js"
import { ApiFailure } from "../api/errors.js"

export const idleStatus: StatsStatus = {
  armed: false,
  sample_count: 0,
  started_unix_ms: null,
  elapsed_ms: 0,
  kind: null,
  truncated: false,
  unsaved_id: null,
  active_sessions: 0
}

export interface FakeApi extends ConsoleApi {
  readonly calls: Array<string>
}

export const fakeApi = (captures: Array<Capture>, overrides: Partial<ConsoleApi> = {}): FakeApi => {
  const calls: Array<string> = []
  const find = (id: string) => {
    const c = captures.find((x) => x.meta.id === id)
    if (c === undefined) throw new ApiFailure(`no capture named ${id}`, 404, "CaptureNotFound")
    return c
  }
  return {
    calls,
    status: async () => (calls.push("status"), idleStatus),
    start: async () => (calls.push("start"), { ...idleStatus, armed: true }),
    stop: async () => (calls.push("stop"), null),
    live: async () => (calls.push("live"), null),
    mark: async (label) => (calls.push(`mark ${label}`), { t_ms: 0, label, kind: "operator" as const }),
    list: async () => (calls.push("list"), captures.map((c) => captureListItem(c.meta))),
    get: async (id) => (calls.push(`get ${id}`), find(id)),
    exportText: async (id, format) => (calls.push(`export ${id} ${format}`), "t_ms\r\n"),
    label: async (id, label): Promise<CaptureMeta> => {
      calls.push(`label ${id} ${label}`)
      return { ...find(id).meta, label }
    },
    remove: async (id) => {
      calls.push(`remove ${id}`)
      const k = captures.findIndex((c) => c.meta.id === id)
      if (k >= 0) captures.splice(k, 1)
    },
    liveEvents: (signal) =>
      new Promise<void>((resolve) => {
        calls.push("liveEvents")
        signal.addEventListener("abort", () => resolve())
      }),
    ...overrides
  }
}
