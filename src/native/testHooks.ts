/**
 * The typed face of the test-only addon (`src/native/testing`, built by `npm run build:native`
 * beside the pipeline, never packed): drawing on and grabbing an X display, pattern files, the
 * encoder run back to back, the cost of measuring, the colour converter on its own. Tests and
 * benchmarks load it; the host never imports this file, and the production addon
 * (`punktfunk_native`) exports none of these (test/native/boundary.test.ts checks both).
 */
import { addonLoader } from "./addonLoader.js"
import type { NativeOptions } from "./binding.js"

export interface NativeTestHooks {
  readonly x11FillRect: (display: string, x: number, y: number, w: number, h: number, rgb: number) => void
  readonly x11Grab: (display: string, width: number, height: number) => Buffer
  /** Maps a plain window of colour `rgb` that stays on the screen after the call (tests). */
  readonly x11MapWindow: (display: string, x: number, y: number, w: number, h: number, rgb: number) => void
  /** Draws the moving pattern over the screen at `fps` for `ms`; blocks (benchmarks, in a child). */
  readonly x11Animate: (display: string, width: number, height: number, fps: number, ms: number) => number
  readonly writePatternFrames: (path: string, width: number, height: number, count: number) => void
  readonly encodeRawFrames: (
    path: string,
    options: Pick<NativeOptions, "width" | "height" | "fps" | "codec" | "encoder" | "preset" | "tune" | "bitrate_kbps">,
    loops: number
  ) => { readonly wall_ns: number; readonly frames: number; readonly bytes: number; readonly encoder_backend: string }
  /** Mean ns an armed frame spends on measuring (clock reads + window store, + the flight record with `flight`), over `frames`. */
  readonly measurementCostNs: (frames: number, flight?: boolean) => number
  /** The flight recorder's ring under a writer thread at full speed (see testing/test_hooks.cc). */
  readonly flightRingStress: (
    fps: number,
    frames: number
  ) => {
    readonly capacity: number
    readonly copies: number
    readonly torn: number
    readonly gaps: number
    readonly kept: number
    readonly first_ms: number
    readonly last_ms: number
  }
  /** The submit stage's BGRX → I420 conversion; `portable` forces the code without SIMD. */
  readonly convertBgrxToI420: (
    bgrx: Buffer,
    width: number,
    height: number,
    portable: boolean
  ) => { readonly y: Buffer; readonly u: Buffer; readonly v: Buffer; readonly path: "avx2" | "portable" }
}

const hooks = addonLoader<NativeTestHooks>("testing", "punktfunk_native_test", "the test-only addon")

/** Where the test-only addon is (benchmarks load it in a child process by this path). */
export const nativeTestHooksPath = hooks.path

/** The test-only addon; throws with the command to run when it has not been built. */
export const nativeTestHooks: () => NativeTestHooks = hooks.load
