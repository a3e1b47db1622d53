/**
 * One loader for every addon wrapper (`binding.ts`, `media.ts`, `enet.ts`, `input.ts`,
 * `audio.ts`, and the tests' `testHooks.ts`): each asks for its module by directory and name and
 * gets a function that loads it on first use and hands back the same object after.
 *
 * Why lazily: the host imports these wrappers at start, but a host without GameStream never
 * needs libenet or libopus, and a failed load must become a message naming the build command at
 * the moment a caller needs the module, not a crash at import. Why the path goes through
 * `addonPath.ts`: `PUNKTFUNK_NATIVE_BUILD_DIR` (the sanitizer build of `npm run test:asan`)
 * switches every module at once.
 */
import { createRequire } from "node:module"
import { addonPath } from "./addonPath.js"

const require = createRequire(import.meta.url)

/** A lazily loaded addon: `load()` throws with the build command when the `.node` is missing. */
export interface AddonLoader<M> {
  /** Where the `.node` file is looked for (resolved once, when the wrapper is imported). */
  readonly path: string
  readonly load: () => M
}

/**
 * `subdir` is the addon's directory under `src/native` ("" for the pipeline), `name` its target
 * name, `what` how an error names it ("the ENet module") and `build` the command that builds it.
 */
export const addonLoader = <M>(subdir: string, name: string, what: string, build = "npm run build:native"): AddonLoader<M> => {
  const modulePath = addonPath(subdir, name)
  let loaded: M | undefined
  return {
    path: modulePath,
    load: () => {
      if (loaded === undefined) {
        try {
          loaded = require(modulePath) as M
        } catch (e) {
          throw new Error(`${what} is not built (${modulePath}): run '${build}' (${e instanceof Error ? e.message : String(e)})`)
        }
      }
      return loaded
    }
  }
}
