// The report's sections, each from the figures: the job at a glance, the cost beside providers'
// prices, the charts over the job's life, the engines, latency, what went wrong, and the runs.
// Every text that came from the job (URLs, ids, messages) is escaped.
import { fmt, renderChart } from "./chart.js";
import { type CostEstimate, hoursText } from "./cost.js";
import type { ReportData } from "./data.js";
import { escapeHtml as e } from "./escape.js";
import type { Figures, Series } from "./series.js";

/** Engines drawn one line each; the rest are in the sum and the tables. */
const MAX_ENGINE_LINES = 6;

const usd = (n: number | null) =>
  n === null ? "–" : `$${n < 0.01 && n > 0 ? n.toPrecision(2) : n.toFixed(n < 10 ? 4 : 2)}`;
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
const secs = (s: number) =>
  s < 120 ? `${s.toFixed(1)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(2)} h`;

export function overview(d: ReportData, f: Figures | null): string {
  const c = d.counts;
  const done = c.succeeded + c.failed;
  const cards: [string, string][] = [
    ["rows done", `${done.toLocaleString("en")} / ${c.total.toLocaleString("en")}`],
    ["succeeded", c.succeeded.toLocaleString("en")],
    ["failed", c.failed.toLocaleString("en")],
    ["pending", c.pending.toLocaleString("en")],
    ["input tokens", c.promptTokens.toLocaleString("en")],
    ["output tokens", c.completionTokens.toLocaleString("en")],
  ];
  if (f) cards.push(["time on the axis", secs(f.spanSec)], ["runs", String(f.runs.length)]);
  const files = [
    ["journal", d.journal],
    ["output", d.output],
    ["errors", d.errors],
    ["input", d.input],
  ]
    .filter(([, v]) => v)
    .map(([k, v]) => `<tr><th scope="row">${k}</th><td>${e(v as string)}</td></tr>`)
    .join("");
  const tags = Object.entries(d.tags)
    .map(([k, v]) => `${e(k)}=${e(String(v))}`)
    .join(", ");
  return `<section aria-labelledby="h-overview"><h2 id="h-overview">The job</h2>
<div class="cards">${cards.map(([k, v]) => `<div class="card" data-figure="${e(k)}"><span class="muted">${e(k)}</span><b>${e(v)}</b></div>`).join("")}</div>
<table><tbody>${files}${d.createdAt ? `<tr><th scope="row">created</th><td>${e(d.createdAt)}</td></tr>` : ""}${tags ? `<tr><th scope="row">tags</th><td>${tags}</td></tr>` : ""}</tbody></table>
${f ? "" : `<p class="note" id="no-series">This journal has no time series (it was written before vbatch recorded one), so the page shows the counts and failures only.</p>`}</section>`;
}

export function costSection(c: CostEstimate): string {
  const rows = c.compare
    .map(
      (p) =>
        `<tr><th scope="row">${e(p.provider)} ${e(p.model)}</th><td class="n">${usd(p.batch)}</td><td class="n">${usd(p.realtime)}</td><td class="n">$${p.prices.batch.input} / $${p.prices.batch.output}</td><td class="n">$${p.prices.realtime.input} / $${p.prices.realtime.output}</td><td>${e(p.prices.source)}, ${e(p.prices.asOf)}</td></tr>`,
    )
    .join("");
  const compare = rows
    ? `<table id="compare"><caption class="muted">The same tokens at providers' prices (USD per million input / output tokens)</caption><thead><tr><th scope="col">model</th><th scope="col" class="n">batch</th><th scope="col" class="n">real-time</th><th scope="col" class="n">batch price</th><th scope="col" class="n">real-time price</th><th scope="col">source</th></tr></thead><tbody>${rows}</tbody></table>`
    : `<p class="muted">Pass <code>--compare gpt-5-mini,claude-haiku-4-5</code> to set providers' prices beside it.</p>`;
  return `<section aria-labelledby="h-cost"><h2 id="h-cost">Cost (an estimate)</h2>
<p class="note">${e(c.note)}</p>
<div class="cards">
<div class="card" data-figure="gpu hours"><span class="muted">GPU hours</span><b>${hoursText(c.gpuHours)}</b></div>
<div class="card" data-figure="cost"><span class="muted">cost</span><b>${usd(c.total)}</b></div>
<div class="card" data-figure="per million tokens"><span class="muted">per million tokens</span><b>${usd(c.perMillionTokens)}</b></div>
<div class="card" data-figure="per million input"><span class="muted">per million input tokens (all cost)</span><b>${usd(c.perMillionInput)}</b></div>
<div class="card" data-figure="per million output"><span class="muted">per million output tokens (all cost)</span><b>${usd(c.perMillionOutput)}</b></div>
</div>${compare}</section>`;
}

/** Sums engines' series point by point (they share sample times). */
function sum(name: string, series: Series[]): Series {
  const at = new Map<number, number>();
  for (const s of series) for (const p of s.points) at.set(p.x, (at.get(p.x) ?? 0) + p.y);
  return { name, points: [...at.entries()].sort((a, b) => a[0] - b[0]).map(([x, y]) => ({ x, y })) };
}

export function charts(f: Figures): string {
  const marks = f.runs.slice(1).map((r, i) => ({ x: r.startSec, label: `resumed (run ${i + 2})` }));
  const gaps = f.runs.slice(1).map((r, i) => ({ from: f.runs[i]?.endSec ?? r.startSec, to: r.startSec }));
  const axis = { marks, gaps, spanSec: f.spanSec };
  const top = [...f.engines].sort((a, b) => b.rows - a.rows).slice(0, MAX_ENGINE_LINES);
  const pick = (list: Series[]) => list.filter((s) => top.some((t) => t.url === s.name));
  const queues =
    f.running.length > 0
      ? [sum("running (all engines)", f.running), sum("waiting (all engines)", f.waiting)]
      : [];
  const hidden = f.engines.length - top.length;
  return `<section aria-labelledby="h-charts"><h2 id="h-charts">Over the job's life</h2>
<p class="muted">Time is seconds since the first run began.${marks.length ? " Dashed lines mark a resume; shaded spans are time the job was stopped." : ""}</p>
${f.samples < 6 ? `<p class="note" id="few-samples">The job was short: its time series has ${f.samples} samples (one at most every 250 ms, at the commits the job makes), so these charts show little.</p>` : ""}
${renderChart({ id: "chart-rows", title: "Rows finished per second", unit: "rows/s", series: [f.rows], ...axis })}
${renderChart({ id: "chart-tokens", title: "Output tokens per second", unit: "tokens/s", series: [f.tokens], ...axis })}
${renderChart({ id: "chart-load", title: "Requests in flight, and the engines' own running and waiting", unit: "requests", series: [f.inFlight, ...queues], ...axis })}
${f.running.length > 0 ? renderChart({ id: "chart-engines", title: `Each engine's running requests${hidden > 0 ? ` (the ${top.length} busiest of ${f.engines.length})` : ""}`, unit: "requests", series: pick(f.running), ...axis }) : `<p class="muted">No engine reported running/waiting counts (/metrics).</p>`}
</section>`;
}

export function engines(f: Figures): string {
  const rows = f.engines
    .map(
      (x) =>
        `<tr><th scope="row">${e(x.url)}</th><td class="n">${x.rows.toLocaleString("en")}</td><td class="n">${pct(x.share)}</td><td class="n">${pct(x.busy)}</td><td class="n">${x.failed.toLocaleString("en")}</td></tr>`,
    )
    .join("");
  const lat = f.latency;
  const prefix = f.prefixCache;
  return `<section aria-labelledby="h-engines"><h2 id="h-engines">Engines</h2>
<table id="engines"><thead><tr><th scope="col">engine</th><th scope="col" class="n">rows</th><th scope="col" class="n">share</th><th scope="col" class="n">busy</th><th scope="col" class="n">failed</th></tr></thead><tbody>${rows || `<tr><td colspan="5">none recorded</td></tr>`}</tbody></table>
<p class="muted">Busy: the share of the sampled time the engine had requests running (or in flight, without /metrics), or finished rows.</p>
<h2 id="h-latency">Latency of attempts</h2>
${lat ? `<table id="latency"><thead><tr><th scope="col">p50</th><th scope="col">p90</th><th scope="col">p99</th><th scope="col">max</th><th scope="col">attempts</th></tr></thead><tbody><tr><td>${fmt(lat.p50)} ms</td><td>${fmt(lat.p90)} ms</td><td>${fmt(lat.p99)} ms</td><td>${fmt(lat.max)} ms</td><td>${lat.attempts.toLocaleString("en")}</td></tr></tbody></table><p class="muted">From a histogram of every attempt (buckets 10 ms to 5 min), so each figure is within its bucket.</p>` : `<p class="muted">No attempts recorded.</p>`}
<h2 id="h-prefix">Prefix cache</h2>
${prefix ? `<p id="prefix">Hit rate ${prefix.queries > 0 ? pct(prefix.hits / prefix.queries) : "–"}: ${prefix.hits.toLocaleString("en")} of ${prefix.queries.toLocaleString("en")} prompt tokens queried were cached (the engines' own counters, over the sampled time).</p>` : `<p class="muted">The engines did not report prefix-cache counters.</p>`}
</section>`;
}

export function problems(d: ReportData, f: Figures | null): string {
  const statusRows = (m: Record<string, number>) =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .map(
        ([k, n]) =>
          `<tr><th scope="row">${e(k === "none" ? "no HTTP answer" : k)}</th><td class="n">${n.toLocaleString("en")}</td></tr>`,
      )
      .join("");
  const attempts = f ? statusRows(f.statuses) : "";
  const failures = statusRows(d.failures);
  const examples = d.examples
    .map(
      (x) =>
        `<li><code>${e(x.customId ?? "(no custom_id)")}</code> ${e(x.code)}: ${e(x.message.slice(0, 300))}</li>`,
    )
    .join("");
  return `<section aria-labelledby="h-problems"><h2 id="h-problems">Retries and errors</h2>
${f ? `<p>${f.requests.toLocaleString("en")} requests, ${f.retries.toLocaleString("en")} retried.</p><table id="attempts"><caption class="muted">Attempts by HTTP status</caption><thead><tr><th scope="col">status</th><th scope="col" class="n">attempts</th></tr></thead><tbody>${attempts}</tbody></table>` : ""}
<table id="failures"><caption class="muted">Rows that failed for good, by the status of their last answer</caption><thead><tr><th scope="col">status</th><th scope="col" class="n">rows</th></tr></thead><tbody>${failures || `<tr><td colspan="2">none</td></tr>`}</tbody></table>
${examples ? `<p>The first errors in ${e(d.errors ?? "the errors file")}:</p><ul id="examples">${examples}</ul>` : ""}
</section>`;
}

export function runsSection(f: Figures): string {
  const rows = f.runs
    .map(
      (r, i) =>
        `<tr><th scope="row">${i + 1}</th><td>${e(r.command)}</td><td class="n">${r.startSec.toFixed(1)}</td><td class="n">${r.endSec.toFixed(1)}</td><td class="n">${r.doneBefore.toLocaleString("en")}</td><td class="n">${r.done.toLocaleString("en")}</td></tr>`,
    )
    .join("");
  return `<section aria-labelledby="h-runs"><h2 id="h-runs">Runs and resumes</h2>
<table id="runs"><thead><tr><th scope="col">run</th><th scope="col">command</th><th scope="col" class="n">began (s)</th><th scope="col" class="n">last sample (s)</th><th scope="col" class="n">rows done before</th><th scope="col" class="n">rows done after</th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">A run after the first is a resume: the job was stopped (Ctrl-C, a crash, a lost machine) and the same command ran again.</p></section>`;
}
