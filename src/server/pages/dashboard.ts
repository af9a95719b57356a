// GET /: the batches of both APIs, newest first, with their status, counts and progress, and
// links to each one's report and its output and error files. The page reloads itself (a meta
// refresh, no script) while any batch is still running. Every id and text is escaped.
import { escapeHtml as e } from "../../report/escape.js";
import { renderPage } from "../../report/page.js";
import type { RouteRequest } from "../http/router.js";
import { type BatchRecord, isFinal } from "../store/batches.js";
import { sendPage } from "./respond-page.js";

/** Batches listed (the newest). */
const SHOWN = 200;
/** Seconds between reloads while a batch runs. */
export const REFRESH_SEC = 5;

function links(b: BatchRecord): string {
  const out = [`<a href="/batches/${e(b.id)}/report">report</a>`];
  if (b.api === "openai") {
    if (b.output_ready) out.push(`<a href="/v1/files/${e(b.output_file_id)}/content">output</a>`);
    if (b.errors_ready) out.push(`<a href="/v1/files/${e(b.error_file_id)}/content">errors</a>`);
  } else if (b.ended_at !== null) {
    out.push(`<a href="/v1/messages/batches/${e(b.id)}/results">results</a>`);
  }
  return out.join(" · ");
}

function row(b: BatchRecord): string {
  const done = b.succeeded + b.failed;
  const pct = b.total > 0 ? Math.round((done / b.total) * 100) : isFinal(b.status) ? 100 : 0;
  const label = `${done} of ${b.total} rows done`;
  return `<tr data-batch="${e(b.id)}"><th scope="row"><code>${e(b.id)}</code></th><td>${e(b.api)}</td><td>${e(b.status)}</td>
<td class="n">${b.succeeded.toLocaleString("en")}</td><td class="n">${b.failed.toLocaleString("en")}</td><td class="n">${b.total.toLocaleString("en")}</td>
<td><progress max="100" value="${pct}" aria-label="${e(label)}">${pct}%</progress> ${pct}%</td>
<td>${e(new Date(b.created_at).toISOString().replace("T", " ").slice(0, 19))}</td><td>${links(b)}</td></tr>`;
}

export function dashboard(r: RouteRequest): void {
  const batches = r.ctx.batches.recent(SHOWN);
  const running = batches.some((b) => !isFinal(b.status));
  const table = batches.length
    ? `<table id="batches"><thead><tr><th scope="col">batch</th><th scope="col">API</th><th scope="col">status</th><th scope="col" class="n">succeeded</th><th scope="col" class="n">failed</th><th scope="col" class="n">rows</th><th scope="col">progress</th><th scope="col">created (UTC)</th><th scope="col">files</th></tr></thead><tbody>${batches.map(row).join("")}</tbody></table>`
    : `<p>No batches yet. Create one through the OpenAI or Anthropic Batch API of this server.</p>`;
  const logout = r.ctx.keys.enabled
    ? `<form method="post" action="/logout"><button type="submit">Log out</button></form>`
    : "";
  const html = renderPage({
    title: "vbatch serve",
    refreshSec: running ? REFRESH_SEC : undefined,
    body: `<header><h1>vbatch serve</h1><p class="muted">${batches.length} batch${batches.length === 1 ? "" : "es"}${running ? `; this page reloads every ${REFRESH_SEC} s while one runs` : ""}.</p>${logout}</header>
<main>${table}</main>`,
  });
  sendPage(r.res, 200, html);
}
