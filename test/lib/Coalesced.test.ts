/**
 * The coalescing of lines a client can cause at will (src/lib/Coalesced.ts), on the test clock:
 * the first of a burst at once, the rest counted into one line when the window is over, a quiet
 * window ends the burst, keys apart. The live case (a punktfunk/1 client's bitrate storm in the
 * host's log) is in test/punktfunk1-control.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { makeCoalesced } from "../../src/lib/Coalesced.js"

describe("coalesced lines", () => {
  it.scoped("a burst of 50 is one line at once and one summary with the other 49; a quiet second ends it", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const coalesce = yield* makeCoalesced(1000)
      const write = (line: string) => Effect.sync(() => void lines.push(line))
      for (let i = 1; i <= 50; i++) yield* coalesce("s1", write(`change ${i}`), (more) => write(`${more} more, the last ${i}`))
      expect(lines).toEqual(["change 1"])
      yield* TestClock.adjust("1 second")
      expect(lines).toEqual(["change 1", "49 more, the last 50"])
      // A quiet second: nothing more, and the burst is over.
      yield* TestClock.adjust("1 second")
      expect(lines).toHaveLength(2)
      yield* coalesce("s1", write("change 51"), (more) => write(`${more} more`))
      expect(lines).toEqual(["change 1", "49 more, the last 50", "change 51"])
    })
  )

  it.scoped("a burst that goes on gets one line per second, each counting its own second; keys are apart", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const coalesce = yield* makeCoalesced(1000)
      const write = (line: string) => Effect.sync(() => void lines.push(line))
      for (let second = 0; second < 3; second++) {
        for (let i = 0; i < 10; i++) yield* coalesce("a", write("a first"), (more) => write(`a ${more} more`))
        yield* coalesce("b", write("b first"), (more) => write(`b ${more} more`))
        yield* TestClock.adjust("1 second")
      }
      // a: its first line, 9 more in the first second, then 10 a second; b, one event a second,
      // is never held back: each of its seconds is a burst of one.
      expect(lines.filter((l) => l.startsWith("a"))).toEqual(["a first", "a 9 more", "a 10 more", "a 10 more"])
      expect(lines.filter((l) => l.startsWith("b"))).toEqual(["b first", "b first", "b first"])
    })
  )
})
