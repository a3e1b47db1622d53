// Loaded into every Node process of `npm run test:asan` (NODE_OPTIONS=--require, see
// scripts/test-asan.sh). The ASan runtime is LD_PRELOADed into Node so the instrumented addons
// can load; children inherit the environment, and some uninstrumented programs the tests start
// misbehave with the runtime forced into them (pactl and PulseAudio hang, for one). So the
// preload is passed on only to Node itself — hosts the tests spawn, vitest's workers — and
// removed from the environment of every other program (PulseAudio, Xvfb, ffmpeg, gcc, the
// Moonlight harnesses), which then run exactly as in the normal suite.
"use strict"
const cp = require("node:child_process")
const path = require("node:path")
const { syncBuiltinESMExports } = require("node:module")

const isNode = (file) => typeof file === "string" && (file === process.execPath || path.basename(file) === "node")

// spawn, execFile, exec and fork all start their process through ChildProcess#spawn, which
// gets the environment as "KEY=value" pairs.
const ChildProcess = cp.ChildProcess
const spawnChild = ChildProcess.prototype.spawn
ChildProcess.prototype.spawn = function (options) {
  if (options && !isNode(options.file) && Array.isArray(options.envPairs)) {
    options.envPairs = options.envPairs.filter((pair) => !pair.startsWith("LD_PRELOAD="))
  }
  return spawnChild.call(this, options)
}

// The synchronous ones do not: give them an environment without the preload up front.
const withoutPreload = (file, options) => {
  if (isNode(file)) return options
  const env = { ...((options && options.env) || process.env) }
  delete env.LD_PRELOAD
  return { ...(options || {}), env }
}
const spawnSync = cp.spawnSync
cp.spawnSync = function (file, args, options) {
  if (!Array.isArray(args)) return spawnSync.call(this, file, withoutPreload(file, args))
  return spawnSync.call(this, file, args, withoutPreload(file, options))
}
const execFileSync = cp.execFileSync
cp.execFileSync = function (file, args, options) {
  if (!Array.isArray(args)) return execFileSync.call(this, file, withoutPreload(file, args))
  return execFileSync.call(this, file, args, withoutPreload(file, options))
}
const execSync = cp.execSync
cp.execSync = function (command, options) {
  // A shell command line: the preload is removed unless it starts with node.
  return execSync.call(this, command, withoutPreload(String(command).trim().split(/\s+/)[0], options))
}
// ES module imports of node:child_process see the patched functions too.
syncBuiltinESMExports()
