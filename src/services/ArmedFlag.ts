/**
 * The armed flag as the per-frame path sees it.
 *
 * The frame loop runs on native threads and reads this flag with one relaxed atomic load per
 * frame, so it must live where the native code can read it without calling into JavaScript: an
 * atomic inside the addon (a `SharedArrayBuffer` cannot be read through
 * `napi_get_arraybuffer_info` on Node 20). The Recorder only writes it, on arm and on stop.
 * `ArmedFlag.memory` is for hosts and tests without the addon (the fake pipeline reads it).
 */
import { Context, Layer } from "effect"

export interface ArmedFlagService {
  readonly set: (armed: boolean) => void
  readonly get: () => boolean
}

export class ArmedFlag extends Context.Tag("punktfunk/ArmedFlag")<ArmedFlag, ArmedFlagService>() {
  static readonly memory: Layer.Layer<ArmedFlag> = Layer.sync(ArmedFlag, () => {
    let armed = false
    return {
      set: (value) => {
        armed = value
      },
      get: () => armed
    }
  })
}
