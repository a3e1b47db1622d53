/**
 * Where the full check of a capture file runs (`CaptureCheck.ts`): in a worker thread, off the
 * event loop that answers requests.
 *
 * Why a worker: checking a 5,400-sample file is ~100 ms of `JSON.parse` and Schema work, and a
 * host started on a directory of unchecked captures (an upgrade, a copied directory) checks a
 * thousand of them in the background. On the event loop, even sliced, each file's `JSON.parse`
 * of ~3 MB holds every request for its whole length (15 ms idle, 100 ms under load), and listing
 * 1,000 captures measured p99 613 ms under load while the checks ran. In a worker the event loop
 * only reads the file and copies its bytes over (~1 ms for 3 MB).
 *
 * One worker, started on the first check and ended after a few idle seconds (an isolate with
 * Effect loaded is tens of MB; the checks happen at start and on rare opens of a changed file).
 * It is `unref`ed, so it never keeps the host alive, and terminated with the store's scope.
 * Should it die, the checks it held are run again on the event loop, and the next check starts a
 * new worker: a dead checker never turns into a verdict against a good file.
 *
 * Where there is no compiled worker module beside this one (the tests run the TypeScript
 * sources, and a `.ts` file cannot be a worker on Node 20), the same steps run on the event loop
 * in slices with a timer between them. The compiled host, its bench and the test of the worker
 * itself (test/capture-check-worker.test.ts) run the worker.
 */
import { Duration, Effect, Either, Schema } from "effect"
import type { Scope } from "effect"
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import type { Capture } from "../../api/Stats.js"
import { CaptureCheckFailed, checkCaptureBytes, CheckReply } from "./CaptureCheck.js"
import type { CheckedCapture, CheckRequest } from "./CaptureCheck.js"

export interface CaptureChecker {
  /** What `checkCaptureBytes` finds in the bytes (the meta, the migrated capture of an older file), or why they fail. */
  readonly check: (bytes: Uint8Array) => Effect.Effect<Either.Either<CheckedCapture, CaptureCheckFailed>>
  /** Where checks run: `worker` or `event loop` (for the log line and the tests). */
  readonly where: "worker" | "event loop"
}

/** The compiled worker module beside this one, when there is one. */
export const defaultWorkerFile = (): string | undefined => {
  const file = fileURLToPath(new URL("./CaptureCheckWorker.js", import.meta.url))
  return fs.existsSync(file) ? file : undefined
}

const IDLE_BEFORE_EXIT = Duration.seconds(5)
const decodeReply = Schema.decodeUnknownEither(CheckReply)

const onEventLoop = (bytes: Uint8Array) => Effect.either(checkCaptureBytes(bytes))

type Outcome = Either.Either<CheckedCapture, CaptureCheckFailed>
type Waiter = (outcome: Outcome | "worker gone") => void

const outcomeOf = (reply: typeof CheckReply.Type): Outcome => {
  const o = reply.outcome
  if (!o.ok) return Either.left(new CaptureCheckFailed({ reason: o.reason, field: o.field, problem: o.problem }))
  // Decoded by the `Capture` Schema in the worker (see `CheckReply`).
  const upgraded = o.upgraded as Capture | undefined
  return Either.right(upgraded === undefined ? { meta: o.meta, from: o.from } : { meta: o.meta, from: o.from, upgraded })
}

export const makeCaptureChecker = (workerFile: string | undefined = defaultWorkerFile()): Effect.Effect<CaptureChecker, never, Scope.Scope> =>
  Effect.gen(function* () {
    if (workerFile === undefined) return { check: onEventLoop, where: "event loop" } satisfies CaptureChecker

    let worker: Worker | undefined
    let idleTimer: NodeJS.Timeout | undefined
    let seq = 0
    const waiting = new Map<number, Waiter>()

    const stop = () => {
      const w = worker
      worker = undefined
      if (idleTimer !== undefined) clearTimeout(idleTimer)
      idleTimer = undefined
      if (w !== undefined) void w.terminate()
    }
    /** Everything the worker held goes back to the event loop (`Waiter` reruns it there). */
    const lost = (w: Worker) => {
      if (worker !== w) return
      worker = undefined
      for (const [n, waiter] of [...waiting]) {
        waiting.delete(n)
        waiter("worker gone")
      }
    }
    const armIdle = () => {
      if (idleTimer !== undefined) clearTimeout(idleTimer)
      idleTimer = undefined
      if (waiting.size > 0) return
      idleTimer = setTimeout(stop, Duration.toMillis(IDLE_BEFORE_EXIT))
      idleTimer.unref()
    }
    const started = () => {
      if (worker !== undefined) return worker
      const w = new Worker(workerFile)
      w.unref()
      w.on("message", (message: unknown) => {
        const reply = decodeReply(message)
        if (Either.isLeft(reply)) return
        const waiter = waiting.get(reply.right.seq)
        waiting.delete(reply.right.seq)
        waiter?.(outcomeOf(reply.right))
        armIdle()
      })
      w.on("error", () => lost(w))
      w.on("exit", () => lost(w))
      worker = w
      return w
    }

    yield* Effect.addFinalizer(() => Effect.sync(stop))

    const inWorker = (bytes: Uint8Array) =>
      Effect.async<Outcome | "worker gone">((resume) => {
        const n = ++seq
        waiting.set(n, (outcome) => resume(Effect.succeed(outcome)))
        if (idleTimer !== undefined) clearTimeout(idleTimer)
        idleTimer = undefined
        // Copied, not transferred: should the worker die, the bytes are still here to check.
        const request: CheckRequest = { seq: n, bytes }
        try {
          started().postMessage(request)
        } catch {
          // The worker could not start (its module unreadable, threads exhausted): check here.
          waiting.delete(n)
          resume(Effect.succeed("worker gone"))
        }
        return Effect.sync(() => {
          waiting.delete(n)
          armIdle()
        })
      })

    const check = (bytes: Uint8Array) =>
      Effect.flatMap(inWorker(bytes), (outcome) => (outcome === "worker gone" ? onEventLoop(bytes) : Effect.succeed(outcome)))
    return { check, where: "worker" } satisfies CaptureChecker
  })
