/**
 * The console build (`vite build web` → `web/dist`, served by the host at `/`).
 *
 * Why no React plugin: esbuild's automatic JSX runtime is all the console needs (no fast refresh
 * in a production build). Why `fs.allow` on the repository root: the console imports the API
 * definition and Schemas from `../src/api` so host, CLI and console share one definition.
 */
import { fileURLToPath } from "node:url"
import { defineConfig } from "vite"

const root = fileURLToPath(new URL(".", import.meta.url))

export default defineConfig({
  root,
  base: "/",
  esbuild: { jsx: "automatic" },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: { fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] } }
})
