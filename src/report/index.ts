// src/report/ is `vbatch report`: one self-contained HTML page about a job, built from its journal
// (data.ts), the figures derived from the time series (series.ts), charts rendered to SVG here
// (chart.ts), the cost estimate (cost.ts) and the sections (sections.ts) in one shell (page.ts).
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { VbatchError } from "../errors.js";
import { type CostEstimate, type CostOptions, estimateCost } from "./cost.js";
import { loadReportData, type ReportData } from "./data.js";
import { escapeHtml } from "./escape.js";
import { renderPage } from "./page.js";
import { charts, costSection, engines, overview, problems, runsSection } from "./sections.js";
import { type Figures, figures } from "./series.js";

export type { CostEstimate, CostOptions } from "./cost.js";
export { loadPriceFile } from "./price-file.js";

export interface ReportOptions extends CostOptions {
  /** The job's output file (or its .vbatch.db). */
  output?: string | undefined;
  journal?: string | undefined;
  /** Where to write the page. @default "<output stem>.report.html" beside the journal */
  out?: string | undefined;
}

export interface ReportResult {
  path: string;
  bytes: number;
  figures: Figures | null;
  cost: CostEstimate;
}

/** The figures and the cost of a job, for `vbatch status --json` and the page. */
export function jobFigures(
  d: ReportData,
  o: CostOptions = {},
): { figures: Figures | null; cost: CostEstimate } {
  const f = d.samples.length > 0 ? figures(d.samples, d.runs) : null;
  return { figures: f, cost: estimateCost(d.counts, d.runs, d.samples, o) };
}

/**
 * What `vbatch status --json` adds: the report's figures without the points of its charts (those
 * are the page's), and the cost estimate.
 */
export function statusFigures(
  job: { output?: string | undefined; journal?: string | undefined },
  o: CostOptions = {},
): {
  figures: Omit<Figures, "rows" | "tokens" | "inFlight" | "running" | "waiting"> | null;
  cost: CostEstimate;
} {
  const { figures: f, cost } = jobFigures(loadReportData(job), o);
  if (!f) return { figures: null, cost };
  const { rows, tokens, inFlight, running, waiting, ...rest } = f;
  return { figures: rest, cost };
}

export function renderReport(
  d: ReportData,
  o: CostOptions = {},
): { html: string; figures: Figures | null; cost: CostEstimate } {
  const { figures: f, cost } = jobFigures(d, o);
  const title = `vbatch report: ${d.output ?? d.journal}`;
  const body = `<header><h1>vbatch report</h1><p class="muted">${escapeHtml(d.output ?? d.journal)} · built ${new Date().toISOString()}</p>
<nav aria-label="sections"><ul><li><a href="#h-overview">Job</a></li><li><a href="#h-cost">Cost</a></li>${f ? `<li><a href="#h-charts">Charts</a></li><li><a href="#h-engines">Engines</a></li>` : ""}<li><a href="#h-problems">Errors</a></li>${f ? `<li><a href="#h-runs">Runs</a></li>` : ""}</ul></nav></header>
<main>
${overview(d, f)}
${costSection(cost)}
${f ? charts(f) + engines(f) : ""}
${problems(d, f)}
${f ? runsSection(f) : ""}
</main>`;
  return { html: renderPage({ title, body }), figures: f, cost };
}

export function defaultReportPath(journal: string): string {
  return resolve(`${journal.replace(/\.vbatch\.db$/, "")}.report.html`);
}

export function buildReport(o: ReportOptions): ReportResult {
  const d = loadReportData({ output: o.output, journal: o.journal });
  const { html, figures: f, cost } = renderReport(d, o);
  const path = resolve(o.out ?? defaultReportPath(d.journal));
  try {
    writeFileSync(path, html);
  } catch (err) {
    throw new VbatchError("io", `cannot write the report to ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { path, bytes: Buffer.byteLength(html), figures: f, cost };
}
