/**
 * Building Moonlight's client code at test time, for the tests that run it against the host:
 * moonlight-common-c (with its enet and nanors submodules) and moonlight-embedded's
 * libgamestream. None of it is in this repository: it comes from bare git mirrors in the one
 * directory `PUNKTFUNK_MOONLIGHT_MIRRORS` names (default /work/.mirror; each repository at
 * `<owner>+<name>/repo`, see test/README.md), and every function here throws an Error saying what
 * is missing, which the tests turn into a skip with a warning — as on CI, which has no mirrors.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

/** The one setting every test that builds Moonlight's code reads. */
export const MIRRORS = process.env["PUNKTFUNK_MOONLIGHT_MIRRORS"] ?? "/work/.mirror"
export const COMMON_C = path.join(MIRRORS, "moonlight-stream+moonlight-common-c", "repo")
export const ENET = path.join(MIRRORS, "cgutman+enet", "repo")
export const NANORS = path.join(MIRRORS, "sleepybishop+nanors", "repo")
export const EMBEDDED = path.join(MIRRORS, "moonlight-stream+moonlight-embedded", "repo")

/** Extracts `subtree` (all when undefined) of bare `repo` at `commit` (or HEAD, when the mirror lacks it). */
export const extract = (repo: string, commit: string | undefined, into: string, subtree?: string) => {
  let rev = "HEAD"
  if (commit !== undefined) {
    try {
      execFileSync("git", ["-C", repo, "cat-file", "-e", `${commit}^{commit}`], { stdio: "ignore" })
      rev = commit
    } catch {
      console.warn(`${repo} lacks the pinned ${commit}; building its HEAD`)
    }
  }
  fs.mkdirSync(into, { recursive: true })
  const tar = execFileSync("git", ["-C", repo, "archive", rev, ...(subtree === undefined ? [] : [subtree])], {
    maxBuffer: 256 * 1024 * 1024
  })
  execFileSync("tar", ["-x", "-C", into], { input: tar })
}

/** The submodule commit `sub` of moonlight-common-c's HEAD pins. */
const pinned = (sub: string): string | undefined =>
  execFileSync("git", ["-C", COMMON_C, "ls-tree", "HEAD", sub]).toString().trim().split(/\s+/)[2]

/** Throws unless `cc` runs. */
export const requireCompiler = (cc = "gcc") => {
  try {
    execFileSync(cc, ["--version"], { stdio: "ignore" })
  } catch {
    throw new Error(`no C compiler (${cc})`)
  }
}

/** Throws unless every header compiles in (e.g. "curl/curl.h"), naming the package that provides it. */
export const requireHeaders = (headers: ReadonlyArray<readonly [header: string, debianPackage: string]>) => {
  for (const [header, pkg] of headers) {
    try {
      execFileSync("gcc", ["-E", "-x", "c", "-", "-o", "/dev/null"], { input: `#include <${header}>\n`, stdio: ["pipe", "ignore", "ignore"] })
    } catch {
      throw new Error(`no <${header}> (apt-get install ${pkg})`)
    }
  }
}

export interface MoonlightCommonC {
  /** The library's source tree (its headers are in `src/src`). */
  readonly src: string
  /** The compiled objects, to link into a harness. */
  readonly objects: ReadonlyArray<string>
}

/**
 * Compiles moonlight-common-c into `buildDir` in its debug configuration (LC_DEBUG: its assertions
 * on what the host sends abort the client, and its FEC validation rebuilds a shard of every block).
 */
export const buildMoonlightCommonC = (buildDir: string): MoonlightCommonC => {
  requireCompiler()
  for (const m of [COMMON_C, ENET, NANORS]) {
    if (!fs.existsSync(m)) throw new Error(`no mirror at ${m} (set PUNKTFUNK_MOONLIGHT_MIRRORS to the directory of the bare mirrors)`)
  }
  const src = path.join(buildDir, "moonlight-common-c")
  extract(COMMON_C, undefined, src)
  extract(ENET, pinned("enet"), path.join(src, "enet"))
  extract(NANORS, pinned("nanors"), path.join(src, "nanors"))
  const enetDefines = ["FCNTL", "IOCTL", "POLL", "GETADDRINFO", "GETNAMEINFO", "INET_PTON", "INET_NTOP", "MSGHDR_FLAGS", "SOCKLEN_T"]
  const library = [
    ...fs.readdirSync(path.join(src, "src")).filter((f) => f.endsWith(".c")).map((f) => path.join("src", f)),
    ...["callbacks.c", "compress.c", "host.c", "list.c", "packet.c", "peer.c", "protocol.c", "unix.c"].map((f) => path.join("enet", f)),
    "nanors/rs.c",
    "nanors/deps/obl/oblas_common.c",
    "nanors/deps/obl/oblas_lite.c"
  ]
  const objectDir = path.join(buildDir, "moonlight-common-c-obj")
  fs.mkdirSync(objectDir, { recursive: true })
  const objects: Array<string> = []
  for (const file of library) {
    const object = path.join(objectDir, `${file.replace(/[/.]/g, "_")}.o`)
    execFileSync("gcc", [
      "-O2", "-w", "-c", "-std=gnu11",
      ...enetDefines.map((d) => `-DHAS_${d}=1`),
      // LC_DEBUG: the library's debug build, whose assertions on what the host sends
      // (LC_ASSERT_VT) "indicate an error in Moonlight or on the host" — a host bug aborts the
      // client here instead of passing unnoticed.
      "-DHAVE_CLOCK_GETTIME", "-DLC_DEBUG",
      "-I", path.join(src, "src"),
      "-I", path.join(src, "enet", "include"),
      "-I", path.join(src, "nanors"),
      "-I", path.join(src, "nanors", "deps"),
      "-I", path.join(src, "nanors", "deps", "obl"),
      path.join(src, file),
      "-o", object
    ])
    objects.push(object)
  }
  return { src, objects }
}

/**
 * Compiles moonlight-embedded's libgamestream (its nvhttp client: serverinfo, pair, applist,
 * launch, quit, unpair; libcurl, expat, OpenSSL, libuuid) against `commonC`'s headers. Only the
 * files the nvhttp client needs: not discover.c (Avahi) nor sps.c (a third-party bitstream
 * writer).
 */
export const buildLibGamestream = (buildDir: string, commonC: MoonlightCommonC): ReadonlyArray<string> => {
  if (!fs.existsSync(EMBEDDED)) throw new Error(`no mirror at ${EMBEDDED}`)
  requireHeaders([
    ["curl/curl.h", "libcurl4-openssl-dev"],
    ["expat.h", "libexpat1-dev"],
    ["uuid/uuid.h", "uuid-dev"],
    ["openssl/ssl.h", "libssl-dev"]
  ])
  const src = path.join(buildDir, "moonlight-embedded")
  extract(EMBEDDED, undefined, src, "libgamestream")
  const objectDir = path.join(buildDir, "libgamestream-obj")
  fs.mkdirSync(objectDir, { recursive: true })
  return ["client.c", "http.c", "xml.c", "mkcert.c"].map((file) => {
    const object = path.join(objectDir, `${file.replace(/[/.]/g, "_")}.o`)
    execFileSync("gcc", [
      "-O1", "-w", "-c", "-std=gnu11",
      "-I", path.join(commonC.src, "src"),
      path.join(src, "libgamestream", file),
      "-o", object
    ])
    return object
  })
}
