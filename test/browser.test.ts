// The report and serve's page in a real headless Chromium, as a person would use them: the charts
// carry the job's own numbers, nothing is fetched from the network (every request outside the
// page's own origin is intercepted and refused), the keyboard reaches the sections, the charts and
// their tables, and the login form leads to the batch and its report. Screenshots go to
// test/artifacts/ (ignored by git). Without a browser the tests skip, saying how to get one.
import { createReadStream } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBatch } from "../src/index.js";
import { fmt } from "../src/report/chart.js";
import { buildReport, type ReportResult } from "../src/report/index.js";
import { startServer } from "../src/server/index.js";
import { type SimServer, startSim } from "../src/sim/index.js";
import { ARTIFACTS, findChromium, NO_BROWSER, type OpenBrowser, openBrowser } from "./helpers/browser.js";
import { chatRow, tempDir, writeJsonl } from "./helpers/files.js";
import { waitFor } from "./helpers/wait.js";

const exe = findChromium();
if (!exe) console.warn(`test/browser.test.ts skipped: ${NO_BROWSER}`);

const dir = tempDir("vbatch-browser-");
let browser: OpenBrowser;
let sim: SimServer;
let report: ReportResult;

describe.skipIf(!exe)("in a real browser", () => {
  beforeAll(async () => {
    browser = await openBrowser(exe as string);
    sim = await startSim({ prefillMs: 0, stepMs: 1, maxNumSeqs: 8, faults: { errorRate: 0.1 }, seed: 9 });
    const input = writeJsonl(
      join(dir, "in.jsonl"),
      Array.from({ length: 200 }, (_, i) => chatRow(i, { model: "sim-model", maxTokens: 16 })),
    );
    const output = join(dir, "out.jsonl");
    const base = { input, output, endpoints: [sim.url], fsync: false, maxAttempts: 2, retryBaseMs: 1 };
    const stop = new AbortController();
    await runBatch({
      ...base,
      signal: stop.signal,
      progressIntervalMs: 20,
      onProgress: (p) => {
        if (p.succeeded + p.failed >= 80) stop.abort();
      },
    });
    await runBatch(base);
    report = buildReport({ output, gpuPrice: 2.5, compare: ["gpt-5-mini", "claude-haiku-4-5"] });
  });
  afterAll(async () => {
    await browser?.close();
    sim?.kill();
  });

  it("draws the report's charts with the job's numbers, fetching nothing", async () => {
    const { context, page, blocked } = await browser.context();
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(`file://${report.path}`);
    const f = report.figures;
    expect(f).not.toBeNull();
    if (!f) return;
    // The cards say what the journal says.
    expect(await page.locator('[data-figure="rows done"] b').textContent()).toBe("200 / 200");
    // Each chart is drawn (paths with points), labelled with its real peak, one path a run.
    const rows = page.locator("#chart-rows svg");
    const peak = Math.max(...f.rows.points.map((p) => p.y));
    expect(await rows.getAttribute("aria-label")).toContain(`peak ${fmt(peak)} rows/s`);
    // One mark a run: a line, or a dot for a run with one rate point.
    expect(await page.locator("#chart-rows path.line, #chart-rows circle.dot").count()).toBe(2);
    const box = await rows.boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    expect(await page.locator("#chart-load path.line").count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator("svg .mark-label").first().textContent()).toBe("resumed (run 2)");
    // The table behind the chart holds the same points.
    const first = f.rows.points[0] as { x: number; y: number };
    const cells = page.locator("#chart-rows tbody tr").first().locator("th, td");
    expect(await cells.allTextContents()).toEqual([first.x.toFixed(1), fmt(first.y)]);
    expect(await page.locator("#compare tbody tr").count()).toBe(2);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "report-light.png"), fullPage: true });
    await page.emulateMedia({ colorScheme: "dark" });
    const bg = await page.evaluate("getComputedStyle(document.body).backgroundColor");
    expect(bg).toBe("rgb(13, 17, 23)");
    await page.screenshot({ path: join(ARTIFACTS, "report-dark.png"), fullPage: true });
    await context.close();
  });

  it("is usable from the keyboard: sections, charts and their tables", async () => {
    const { context, page } = await browser.context();
    await page.goto(`file://${report.path}`);
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Job");
    // Tab on until the first chart has focus, then its table's summary; Enter opens the table.
    let seen = "";
    for (let i = 0; i < 20 && seen !== "svg"; i++) {
      await page.keyboard.press("Tab");
      seen = String(await page.evaluate("document.activeElement?.tagName.toLowerCase()"));
    }
    expect(seen).toBe("svg");
    expect(await page.evaluate("document.activeElement?.getAttribute('aria-label')")).toMatch(
      /^Rows finished per second\. rows\/s: peak/,
    );
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.tagName")).toBe("SUMMARY");
    await page.keyboard.press("Enter");
    expect(await page.locator("#chart-rows details").getAttribute("open")).toBe("");
    expect(await page.locator("#chart-rows tbody tr").first().isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "report-keyboard.png") });
    await context.close();
  });

  it("logs in to serve's page, sees the batch and follows its report link", async () => {
    const key = "sk-browser-0123456789";
    const server = await startServer({
      dataDir: join(dir, "serve"),
      port: 0,
      endpoints: [sim.url],
      apiKeys: [key],
      run: { progressIntervalMs: 50, fsync: false },
    });
    try {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });
      const input = writeJsonl(
        join(dir, "batch.jsonl"),
        Array.from({ length: 20 }, (_, i) => chatRow(i, { model: "sim-model" })),
      );
      const file = await client.files.create({ file: createReadStream(input), purpose: "batch" });
      const batch = await client.batches.create({
        input_file_id: file.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      });
      await waitFor(
        () => client.batches.retrieve(batch.id),
        (b) => b.status === "completed",
      );
      const { context, page, blocked } = await browser.context([server.url]);
      await page.goto(`${server.url}/`);
      expect(new URL(page.url()).pathname).toBe("/login");
      await page.getByLabel("API key").fill(key);
      await page.keyboard.press("Enter");
      await page.waitForURL(`${server.url}/`);
      expect(page.url()).not.toContain(key);
      const row = page.locator(`tr[data-batch="${batch.id}"]`);
      expect(await row.locator("td").nth(1).textContent()).toBe("completed");
      expect(await row.locator("progress").getAttribute("value")).toBe("100");
      const cookies = await context.cookies();
      expect(cookies.find((c) => c.name === "vbatch_session")).toMatchObject({
        httpOnly: true,
        sameSite: "Strict",
      });
      await page.screenshot({ path: join(ARTIFACTS, "serve-page.png"), fullPage: true });
      await row.getByRole("link", { name: "report" }).click();
      await page.waitForURL(`${server.url}/batches/${batch.id}/report`);
      expect(await page.locator('[data-figure="rows done"] b').textContent()).toBe("20 / 20");
      await page.screenshot({ path: join(ARTIFACTS, "serve-report.png"), fullPage: true });
      expect(blocked).toEqual([]);
      await context.close();
    } finally {
      await server.close();
    }
  });
});
