// GET /batches/<id>/report: the report page (src/report/) of one batch's job, built from its
// journal when asked. The id reached here only through the router's strict id patterns.
import { existsSync } from "node:fs";
import { loadReportData } from "../../report/data.js";
import { renderReport } from "../../report/index.js";
import { notFound } from "../http/respond.js";
import type { RouteRequest } from "../http/router.js";
import { sendPage } from "./respond-page.js";

export function batchReport(r: RouteRequest): void {
  const id = r.params.batch ?? r.params.msgbatch ?? "";
  const b = r.ctx.batches.get(id);
  if (!b) throw notFound("batch", id);
  const paths = r.ctx.layout.batch(
    b.id,
    b.api === "openai" ? { output: b.output_file_id, errors: b.error_file_id } : undefined,
  );
  if (!existsSync(paths.journal)) throw notFound("report (the batch has not started)", id);
  const data = loadReportData({ journal: paths.journal, output: paths.output, errors: paths.errors });
  const { html } = renderReport(data);
  sendPage(r.res, 200, html);
}
