// What a report is built from, read from the job's journal (read-only: safe while the job runs)
// and the first lines of its errors file. A journal from before the time series gives the counts
// and the failures by status, and the page says the charts are missing and why.
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { VbatchError } from "../errors.js";
import { Journal, type JournalCounts, type RunRecord, type TimelineSample } from "../journal/journal.js";
import { findJob, type JobFiles } from "../tools/status/find.js";

export interface ErrorExample {
  customId: string | null;
  code: string;
  message: string;
}

export interface ReportData extends JobFiles {
  counts: JournalCounts;
  jobId: string | null;
  input: string | null;
  createdAt: string | null;
  tags: Record<string, string>;
  samples: TimelineSample[];
  runs: RunRecord[];
  /** Failed rows by the status of their final answer ("none": no HTTP answer). */
  failures: Record<string, number>;
  /** The first few lines of the errors file, for what went wrong in words. */
  examples: ErrorExample[];
}

/**
 * Reads the job of `output` (its output file or journal), or of `journal`; `errors` names its
 * errors file when it is not the one beside the output (serve's OpenAI batches).
 */
export function loadReportData(o: {
  output?: string | undefined;
  journal?: string | undefined;
  errors?: string | undefined;
}): ReportData {
  const found = findJob(o);
  const files = o.errors === undefined ? found : { ...found, errors: existsSync(o.errors) ? o.errors : null };
  let journal: Journal;
  try {
    journal = new Journal(files.journal, { readonly: true });
  } catch (err) {
    throw new VbatchError(
      "usage",
      `${files.journal} is not a readable vbatch journal: ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    const { samples, runs } = journal.timeline();
    return {
      ...files,
      counts: journal.counts(),
      jobId: journal.getMeta("job_id") ?? null,
      input: journal.getMeta("input_path") ?? null,
      createdAt: journal.getMeta("created_at") ?? null,
      tags: parseTags(journal.getMeta("tags")),
      samples,
      runs,
      failures: journal.failuresByStatus(),
      examples: files.errors ? firstErrors(files.errors, 5) : [],
    };
  } finally {
    journal.close();
  }
}

function parseTags(text: string | undefined): Record<string, string> {
  try {
    const v = JSON.parse(text ?? "{}") as unknown;
    return v && typeof v === "object" ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** The first `n` lines of an errors file (at most 256 KiB read), as code and message. */
export function firstErrors(path: string, n: number): ErrorExample[] {
  let text = "";
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const buf = Buffer.alloc(256 * 1024);
    const got = readSync(fd, buf, 0, buf.length, 0);
    text = buf.subarray(0, got).toString("utf8");
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const out: ErrorExample[] = [];
  for (const line of text.split("\n")) {
    if (out.length >= n) break;
    const ex = exampleOf(line);
    if (ex) out.push(ex);
  }
  return out;
}

function exampleOf(line: string): ErrorExample | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null; // an empty last line, or one cut at the 256 KiB read
  }
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  const customId = typeof o.custom_id === "string" ? o.custom_id : null;
  const err = o.error as { code?: unknown; message?: unknown } | null | undefined;
  if (err && typeof err === "object") {
    return { customId, code: String(err.code ?? "error"), message: String(err.message ?? "") };
  }
  const res = o.response as { status_code?: unknown; body?: unknown } | null | undefined;
  const body = res?.body as { error?: { message?: unknown } | string; message?: unknown } | undefined;
  const inner = typeof body?.error === "object" ? body.error.message : (body?.error ?? body?.message);
  return {
    customId,
    code: String(res?.status_code ?? "error"),
    message: typeof inner === "string" ? inner : JSON.stringify(body ?? null).slice(0, 300),
  };
}
