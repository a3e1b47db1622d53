/** The browser the e2e tests drive: the benches' own launcher (`src/bench/Chromium.ts`), one for both. */
export { CHROMIUM, launchChromium } from "../../src/bench/Chromium.js"
export type { LaunchedBrowser } from "../../src/bench/Chromium.js"
