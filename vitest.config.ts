import { defineConfig } from "vitest/config"

// Two projects: host-core tests run in parallel (each host on port 0, its own temp dir);
// streaming tests run one file at a time because they load the 2-core machine with real
// encoders and their cadence checks would otherwise fight each other for CPU.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "core",
          include: ["test/**/*.test.ts"],
          exclude: ["test/streaming/**", "test/e2e/**", "test/faults/**"],
          testTimeout: 30_000,
          hookTimeout: 30_000
        }
      },
      {
        test: {
          name: "streaming",
          include: ["test/streaming/**/*.test.ts"],
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 60_000
        }
      }
    ]
  }
})
