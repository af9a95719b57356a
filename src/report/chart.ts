// Line charts rendered to inline SVG when the report is built, with d3-scale (axes, ticks) and
// d3-shape (the paths): no script runs in the page, nothing is fetched, and the colours come from
// CSS classes, so the page's light and dark themes both apply. Each chart has the table of its
// numbers behind it, for a keyboard or a screen reader.
import { scaleLinear } from "d3-scale";
import { line } from "d3-shape";
import { escapeHtml } from "./escape.js";
import type { Point, Series } from "./series.js";

export interface ChartOptions {
  id: string;
  title: string;
  /** What the y axis counts, e.g. "rows/s". */
  unit: string;
  series: Series[];
  /** Vertical marks on the time axis (run starts), seconds. */
  marks?: { x: number; label: string }[];
  /** Spans of time with no run (stopped), seconds. */
  gaps?: { from: number; to: number }[];
  /** The axis's end, seconds (so every chart of a page shares one axis). */
  spanSec: number;
}

const W = 720;
const H = 220;
const M = { top: 12, right: 16, bottom: 28, left: 56 };

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return "–";
  const a = Math.abs(n);
  if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`;
  if (a >= 100 || Number.isInteger(n)) return String(Math.round(n));
  return n.toFixed(a >= 10 ? 1 : 2);
}

export function renderChart(o: ChartOptions): string {
  const maxY = Math.max(1, ...o.series.flatMap((s) => s.points.map((p) => p.y)));
  const x = scaleLinear()
    .domain([0, Math.max(1, o.spanSec)])
    .range([M.left, W - M.right]);
  const y = scaleLinear()
    .domain([0, maxY])
    .nice(4)
    .range([H - M.bottom, M.top]);
  const path = line<Point>()
    .x((p) => x(p.x))
    .y((p) => y(p.y));
  const parts: string[] = [];
  for (const g of o.gaps ?? []) {
    parts.push(
      `<rect class="gap" x="${x(g.from).toFixed(1)}" y="${M.top}" width="${Math.max(1, x(g.to) - x(g.from)).toFixed(1)}" height="${H - M.top - M.bottom}"><title>stopped</title></rect>`,
    );
  }
  for (const t of y.ticks(4)) {
    const yy = y(t).toFixed(1);
    parts.push(
      `<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${yy}" y2="${yy}"/><text class="tick" x="${M.left - 6}" y="${yy}" dy="0.32em" text-anchor="end">${fmt(t)}</text>`,
    );
  }
  for (const t of x.ticks(6)) {
    parts.push(
      `<text class="tick" x="${x(t).toFixed(1)}" y="${H - 8}" text-anchor="middle">${fmt(t)}s</text>`,
    );
  }
  o.series.forEach((s, i) => {
    // One path a run: a line never crosses the time the job was stopped.
    for (const seg of segments(
      s.points,
      (o.gaps ?? []).map((g) => g.to),
    )) {
      const d = seg.length > 1 ? path(seg) : null;
      if (d) parts.push(`<path class="line c${i % 6}" d="${d}"><title>${escapeHtml(s.name)}</title></path>`);
      else if (seg[0]) {
        const p = seg[0];
        parts.push(
          `<circle class="dot c${i % 6}" cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3"/>`,
        );
      }
    }
  });
  for (const m of o.marks ?? []) {
    const xx = x(m.x).toFixed(1);
    parts.push(
      `<line class="mark" x1="${xx}" x2="${xx}" y1="${M.top}" y2="${H - M.bottom}"/><text class="mark-label" x="${xx}" y="${M.top + 10}" dx="3">${escapeHtml(m.label)}</text>`,
    );
  }
  const summary = o.series
    .map((s) => `${s.name}: peak ${fmt(Math.max(0, ...s.points.map((p) => p.y)))} ${o.unit}`)
    .join("; ");
  const label = `${o.title}. ${summary || "no data"}`;
  const legend =
    o.series.length > 1
      ? `<ul class="legend">${o.series.map((s, i) => `<li><span class="swatch c${i % 6}"></span>${escapeHtml(s.name)}</li>`).join("")}</ul>`
      : "";
  return `<figure class="chart" id="${o.id}">
<figcaption>${escapeHtml(o.title)}</figcaption>
<svg viewBox="0 0 ${W} ${H}" tabindex="0" role="img" aria-label="${escapeHtml(label)}" data-peak="${maxY}"><desc>${escapeHtml(summary)}</desc>${parts.join("")}</svg>
${legend}${dataTable(o)}
</figure>`;
}

/** `points` cut before each of `breaks` (seconds, ascending). */
function segments(points: Point[], breaks: number[]): Point[][] {
  const out: Point[][] = [[]];
  let b = 0;
  for (const p of points) {
    let cut = false;
    while (b < breaks.length && p.x >= (breaks[b] as number)) {
      b++;
      cut = true;
    }
    if (cut && (out.at(-1) as Point[]).length > 0) out.push([]);
    (out.at(-1) as Point[]).push(p);
  }
  return out;
}

/** The chart's numbers as a table, folded behind a summary that takes keyboard focus. */
function dataTable(o: ChartOptions): string {
  const xs = [...new Set(o.series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const maps = o.series.map((s) => new Map(s.points.map((p) => [p.x, p.y])));
  const rows = xs
    .map(
      (xv) =>
        `<tr><th scope="row">${xv.toFixed(1)}</th>${maps.map((m) => `<td>${m.has(xv) ? fmt(m.get(xv) as number) : ""}</td>`).join("")}</tr>`,
    )
    .join("");
  return `<details class="data"><summary>Table: ${escapeHtml(o.title)}</summary>
<table><thead><tr><th scope="col">seconds</th>${o.series.map((s) => `<th scope="col">${escapeHtml(s.name)} (${escapeHtml(o.unit)})</th>`).join("")}</tr></thead><tbody>${rows}</tbody></table></details>`;
}
