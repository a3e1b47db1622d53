/**
 * The armed flag backed by the addon's atomic: `set` is the Recorder's arm/stop, and every
 * native frame loop reads the same atomic with one relaxed load per frame.
 *
 * When the addon is not built the host still starts (the console, stored captures and the API
 * work); the flag then lives in memory and the first session reports the missing build.
 */
import { Effect, Layer } from "effect"
import { nativeModule } from "../native/binding.js"
import { ArmedFlag } from "../services/ArmedFlag.js"

export const NativeArmedFlag: Layer.Layer<ArmedFlag> = Layer.effect(
  ArmedFlag,
  Effect.gen(function* () {
    const addon = yield* Effect.try(() => nativeModule()).pipe(Effect.option)
    if (addon._tag === "None") {
      yield* Effect.logWarning("native pipeline not built: the armed flag is kept in memory only")
      let armed = false
      return ArmedFlag.of({ set: (v) => void (armed = v), get: () => armed })
    }
    const native = addon.value
    // A new host starts disarmed, whatever an earlier host in this process left behind.
    native.setArmed(false)
    return ArmedFlag.of({ set: (v) => native.setArmed(v), get: () => native.getArmed() })
  })
)
