import { defineConfig } from "vitest/config"

// Projects:
// - core: host-core tests, in parallel (each host on port 0 in its own temp dir);
// - streaming: real encoders, one fork, one file at a time — on a 2-core machine parallel
//   encoders would fight for CPU and blur the cadence checks;
// - web: console units (summaries, downsampler, components) in jsdom;
// - e2e: a built host driven through headless Chromium, one file at a time;
// - gamestream: the GameStream path (nvhttp, pairing, known answers) with its own TS client, one fork;
//   its tests that stream through real encoders (test/gamestream/streaming) run in `streaming`;
// - faults: the fault and abuse suite (`npm run test:faults`): kills, full disks, fuzzing, soak;
// - package: `npm pack`, install of the tarball into a temporary prefix (a full native build by
//   the package's install script), its commands against its own host — last and alone, since
//   the build takes both cores for minutes.
//
// Why `groupOrder`: on a 2-core CI machine, the suites that stream (real encoders, a browser,
// SIGKILL storms, the soak) blur each other when they share the cores with everything else.
// The quick suites run together first (group 0), then streaming, the browser end to end and
// the fault suite each on their own. No test asserts a time; this keeps cadence and
// "≥ 99% decoded" checks about the code, not about a neighbour's CPU use.
export default defineConfig({
  esbuild: { jsx: "automatic" },
  test: {
    projects: [
      {
        test: {
          name: "core",
          sequence: { groupOrder: 0 },
          include: ["test/**/*.test.ts"],
          exclude: ["test/streaming/**", "test/e2e/**", "test/faults/**", "test/gamestream/**", "test/package/**"],
          testTimeout: 30_000,
          hookTimeout: 30_000
        }
      },
      {
        test: {
          name: "streaming",
          sequence: { groupOrder: 1 },
          // GameStream's tests that run real encoders live with the other GameStream tests, in
          // their own subfolder, and run here (serially) rather than in the gamestream project.
          include: ["test/streaming/**/*.test.ts", "test/gamestream/streaming/**/*.test.ts"],
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 60_000
        }
      },
      {
        test: {
          name: "gamestream",
          sequence: { groupOrder: 0 },
          include: ["test/gamestream/**/*.test.ts"],
          exclude: ["test/gamestream/streaming/**"],
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 60_000,
          hookTimeout: 60_000
        }
      },
      {
        esbuild: { jsx: "automatic" },
        test: {
          name: "web",
          sequence: { groupOrder: 0 },
          include: ["web/src/**/*.test.{ts,tsx}"],
          environment: "jsdom",
          testTimeout: 30_000
        }
      },
      {
        test: {
          name: "e2e",
          sequence: { groupOrder: 2 },
          include: ["test/e2e/**/*.test.ts"],
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 180_000,
          hookTimeout: 120_000
        }
      },
      {
        test: {
          name: "faults",
          sequence: { groupOrder: 3 },
          include: ["test/faults/**/*.test.ts"],
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 900_000,
          hookTimeout: 120_000
        }
      },
      {
        test: {
          name: "package",
          sequence: { groupOrder: 4 },
          include: ["test/package/**/*.test.ts"],
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 1_800_000,
          hookTimeout: 120_000
        }
      }
    ]
  }
})
