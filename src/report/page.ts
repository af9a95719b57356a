// The shell every page of vbatch shares (the report, serve's dashboard): one HTML file with its
// styles inline, light and dark by prefers-color-scheme, and a Content-Security-Policy that allows
// nothing to be fetched and only this page's own style block (by its hash) and, when given, its
// own script: a page saved to disk opens the same, offline.
import { createHash } from "node:crypto";
import { escapeHtml } from "./escape.js";

const CSS = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de;
  --panel: #f6f8fa; --accent: #0a58ca; --gap: rgba(207, 34, 46, 0.12);
  --c0: #0a58ca; --c1: #b35900; --c2: #1a7f37; --c3: #8250df; --c4: #cf222e; --c5: #1b7c83; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9da7b3; --line: #30363d; --panel: #161b22;
    --accent: #6cb6ff; --gap: rgba(248, 81, 73, 0.18);
    --c0: #6cb6ff; --c1: #f0a35e; --c2: #56d364; --c3: #c297ff; --c4: #ff7b72; --c5: #56d4dd; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 70rem; padding: 1.5rem; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
a { color: var(--accent); }
a:focus-visible, summary:focus-visible, svg:focus-visible, button:focus-visible, input:focus-visible {
  outline: 3px solid var(--accent); outline-offset: 2px; }
h1 { font-size: 1.5rem; margin: 0 0 0.25rem; } h2 { font-size: 1.15rem; margin: 2rem 0 0.5rem; }
.muted { color: var(--muted); }
.note { background: var(--panel); border-left: 4px solid var(--accent); padding: 0.5rem 0.75rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: 0.75rem; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 0.6rem 0.8rem; }
.card b { display: block; font-size: 1.3rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 0.25rem 0.5rem; text-align: left; }
td.n, th.n { text-align: right; }
figure.chart { margin: 1rem 0; }
figcaption { font-weight: 600; }
svg { width: 100%; height: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .tick, svg .mark-label { fill: var(--muted); font-size: 11px; }
svg .line { fill: none; stroke-width: 2; }
svg .mark { stroke: var(--fg); stroke-dasharray: 4 3; }
svg .gap { fill: var(--gap); }
.c0 { stroke: var(--c0); fill: var(--c0); } .c1 { stroke: var(--c1); fill: var(--c1); }
.c2 { stroke: var(--c2); fill: var(--c2); } .c3 { stroke: var(--c3); fill: var(--c3); }
.c4 { stroke: var(--c4); fill: var(--c4); } .c5 { stroke: var(--c5); fill: var(--c5); }
svg .line.c0, svg .line.c1, svg .line.c2, svg .line.c3, svg .line.c4, svg .line.c5 { fill: none; }
.legend { list-style: none; padding: 0; margin: 0.25rem 0; display: flex; flex-wrap: wrap; gap: 1rem; }
.swatch { display: inline-block; width: 0.9rem; height: 0.9rem; margin-right: 0.35rem; vertical-align: -2px;
  border-radius: 2px; }
.swatch.c0 { background: var(--c0); } .swatch.c1 { background: var(--c1); } .swatch.c2 { background: var(--c2); }
.swatch.c3 { background: var(--c3); } .swatch.c4 { background: var(--c4); } .swatch.c5 { background: var(--c5); }
details.data summary { cursor: pointer; color: var(--accent); }
details.data { max-height: 24rem; overflow: auto; }
progress { width: 10rem; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
form.login { max-width: 24rem; display: grid; gap: 0.5rem; }
input, button { font: inherit; padding: 0.35rem 0.5rem; }
`;

export interface PageOptions {
  title: string;
  body: string;
  /** A script of the page's own, allowed by its hash (serve's refresh); none by default. */
  script?: string | undefined;
  /** Seconds after which the page reloads itself (a running job). */
  refreshSec?: number | undefined;
}

function hash(text: string): string {
  return `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
}

export function renderPage(o: PageOptions): string {
  const csp = [
    "default-src 'none'",
    `style-src ${hash(CSS)}`,
    o.script ? `script-src ${hash(o.script)}` : "script-src 'none'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'self'",
  ].join("; ");
  const refresh = o.refreshSec ? `\n<meta http-equiv="refresh" content="${o.refreshSec}">` : "";
  const script = o.script ? `\n<script>${o.script}</script>` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">${refresh}
<title>${escapeHtml(o.title)}</title>
<style>${CSS}</style>
</head>
<body>
${o.body}${script}
</body>
</html>
`;
}

/** The policy a server sends with a page as a header too (frame-ancestors works only there). */
export function pageCsp(html: string): string {
  const meta =
    /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? "default-src 'none'";
  return `${meta}; frame-ancestors 'none'`;
}
