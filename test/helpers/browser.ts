// A real headless Chromium for the page tests: Debian's /usr/bin/chromium (apt-get install
// chromium; .ci/run installs it) driven by playwright-core, one browser per test file, each launch
// with a fresh profile (playwright-core makes a new user-data-dir per launch and removes it). Every
// request a page makes is seen here: anything that is not the page's own origin is refused and
// counted, so a test can assert that nothing left for the network.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

const CANDIDATES = [process.env.VBATCH_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The browser's executable, or null (the tests then skip, saying why). */
export function findChromium(): string | null {
  for (const c of CANDIDATES) if (c && existsSync(c)) return c;
  return null;
}

export const NO_BROWSER =
  "no Chromium found (/usr/bin/chromium, or VBATCH_CHROMIUM): install it with `apt-get install -y chromium`; .ci/run does";

export const ARTIFACTS = join(import.meta.dirname, "..", "artifacts");

export interface OpenBrowser {
  browser: Browser;
  /** A fresh context whose requests outside `allow` (origins) are aborted and recorded. */
  context(allow?: string[]): Promise<{ context: BrowserContext; page: Page; blocked: string[] }>;
  close(): Promise<void>;
}

export async function openBrowser(executablePath: string): Promise<OpenBrowser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  return {
    browser,
    async context(allow = []) {
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      const blocked: string[] = [];
      await context.route("**/*", (route) => {
        const url = route.request().url();
        const ok = url.startsWith("file:") || url.startsWith("data:") || allow.some((o) => url.startsWith(o));
        if (ok) return route.continue();
        blocked.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      return { context, page, blocked };
    },
    async close() {
      await browser.close();
    },
  };
}
