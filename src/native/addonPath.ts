/**
 * Where the compiled addons are. The one loader (`addonLoader.ts`, which `binding.ts`, `media.ts`,
 * `enet.ts`, `input.ts` and `audio.ts` use) asks here, so one environment variable switches all
 * of them to another build.
 *
 * Why `PUNKTFUNK_NATIVE_BUILD_DIR`: `npm run test:asan` builds the same sources with
 * AddressSanitizer and UBSan into a copy of `src/native` (`build/asan/native`, see
 * `scripts/build-native-asan.sh`), so the normal build is never overwritten and both can exist
 * side by side. Pointing this variable at that copy makes the tests, and any host they spawn
 * (which inherits the environment), load the instrumented modules. Unset, the addons load from
 * `src/native` as always — from `src/native/` (tests) and `dist/native/` (compiled) alike the
 * package root is two directories up.
 */
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

/** The directory laid out like `src/native` that holds the addons' `build/Release` folders. */
export const nativeBuildRoot = (): string => {
  const override = process.env["PUNKTFUNK_NATIVE_BUILD_DIR"]
  return override !== undefined && override !== "" ? path.resolve(override) : path.join(root, "src", "native")
}

/** The `.node` file of one addon: `subdir` is its directory under `src/native` ("" for the pipeline). */
export const addonPath = (subdir: string, name: string): string =>
  path.join(nativeBuildRoot(), subdir, "build", "Release", `${name}.node`)
