/**
 * `npm run bench`: runs every benchmark module (`dist/bench/*.bench.js`) one after the other and
 * prints its figures as Markdown, ready to paste into BENCHMARKS.md.
 *
 * Why one process, one module at a time: the claims are ratios measured side by side (armed vs
 * disarmed, ours vs the ffmpeg command line), and on a shared 2-core machine two benchmarks in
 * parallel would measure each other. Why discovery by file name: each room owns its benchmark
 * file and nobody edits a central list.
 *
 * `npm run bench -- native` runs only the modules whose file name contains "native".
 */
import { readdirSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

export interface BenchReport {
  readonly title: string
  /** Markdown lines: a table or a list of figures, each saying what was measured. */
  readonly lines: ReadonlyArray<string>
}

export type BenchModule = { readonly default: () => Promise<BenchReport> }

const here = dirname(fileURLToPath(import.meta.url))
const filter = process.argv[2]

const modules = readdirSync(here)
  .filter((name) => name.endsWith(".bench.js"))
  .filter((name) => filter === undefined || name.includes(filter))
  .sort()

const cpu = cpus()[0]?.model ?? "unknown CPU"
console.log(`# punktfunk benchmarks`)
console.log(``)
console.log(`Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString()}`)
console.log(``)

let failed = 0
for (const name of modules) {
  const started = Date.now()
  try {
    const mod = (await import(pathToFileURL(join(here, name)).href)) as BenchModule
    const report = await mod.default()
    console.log(`## ${report.title}`)
    console.log(``)
    for (const line of report.lines) console.log(line)
    console.log(``)
    console.log(`_(${name}, ${((Date.now() - started) / 1000).toFixed(1)} s)_`)
    console.log(``)
  } catch (error) {
    failed++
    console.log(`## ${name}: FAILED`)
    console.log(``)
    console.log("```")
    console.log(error instanceof Error ? (error.stack ?? error.message) : String(error))
    console.log("```")
    console.log(``)
  }
}
if (modules.length === 0) console.log(`no benchmark modules matched${filter === undefined ? "" : ` "${filter}"`}`)
process.exitCode = failed > 0 ? 1 : 0
