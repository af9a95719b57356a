// buildRequests(): a prompt template and a table of rows (CSV or JSONL) become a batch input file.
// Rows stream through; custom_ids are checked for duplicates in a scratch SQLite file, so memory
// stays flat; every problem names the data file, row and line, and nothing is written unless all
// rows are good.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { VbatchError } from "../../errors.js";
import { MAX_CUSTOM_ID_LENGTH } from "../../input/row.js";
import { echoId } from "../../util/echo.js";
import { AtomicLineWriter, refuseOverwrite } from "../line-writer.js";
import { ProblemList, problemsError } from "../problems.js";
import { ScratchDb } from "../scratch-db.js";
import { type DataFormat, type DataRow, dataFormat, readDataRows } from "./records.js";
import { type EndpointKind, KIND_URL, type RequestParams, requestLine } from "./request.js";
import { lookup, parseTemplate, render, type Template } from "./template.js";

export interface BuildOptions {
  /** Prompt template file with {{field}} placeholders. */
  template: string;
  /** Data rows: .csv (header row) or .jsonl (one object a line), optionally .gz. */
  rows: string;
  /** body.model of every request. */
  model: string;
  /** Output batch input file (.jsonl). */
  output: string;
  /** System message template file (chat only), with the same placeholders. */
  system?: string | undefined;
  /** Row field holding each custom_id. @default undefined: `row-<n>` from the row number */
  idField?: string | undefined;
  /** @default "chat" */
  endpointKind?: EndpointKind;
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  /** Where the scratch database goes. @default os.tmpdir() */
  scratchDir?: string | undefined;
  /** Replace an output file that already holds something. @default false */
  force?: boolean | undefined;
}

export interface BuildSummary {
  rows: number;
  output: string;
  url: string;
  model: string;
  format: DataFormat;
  customIds: "field" | "row-number";
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new VbatchError("usage", `${flag} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function checkOptions(o: BuildOptions, kind: EndpointKind): void {
  if (!o.model) throw new VbatchError("usage", "--model is required");
  if (kind === "embeddings" && (o.maxTokens !== undefined || o.temperature !== undefined)) {
    throw new VbatchError(
      "usage",
      "--max-tokens and --temperature do not apply to --endpoint-kind embeddings",
    );
  }
  if (kind !== "chat" && o.system !== undefined) {
    throw new VbatchError("usage", "--system needs --endpoint-kind chat (the only kind with messages)");
  }
  const out = resolve(o.output);
  for (const [flag, p] of [
    ["--rows", o.rows],
    ["--template", o.template],
    ["--system", o.system],
  ] as const) {
    if (p !== undefined && resolve(p) === out)
      throw new VbatchError("usage", `-o ${o.output} would overwrite ${flag}`);
  }
}

function customIdOf(row: DataRow, field: string | undefined): { id: string } | { problem: string } {
  if (field === undefined) return { id: `row-${row.n}` };
  const v = lookup(row.values, field);
  if (v === undefined) return { problem: `no field ${JSON.stringify(field)} (--id-field)` };
  if ((typeof v !== "string" && typeof v !== "number") || String(v) === "") {
    return { problem: `--id-field ${JSON.stringify(field)} must be a non-empty string or number` };
  }
  const id = String(v);
  if (id.length > MAX_CUSTOM_ID_LENGTH)
    return { problem: `id longer than ${MAX_CUSTOM_ID_LENGTH} characters` };
  return { id };
}

export async function buildRequests(o: BuildOptions): Promise<BuildSummary> {
  const kind = o.endpointKind ?? "chat";
  checkOptions(o, kind);
  const template = parseTemplate(readText(o.template, "--template"), o.template);
  const system: Template | undefined =
    o.system === undefined ? undefined : parseTemplate(readText(o.system, "--system"), o.system);
  if (!existsSync(o.rows)) throw new VbatchError("usage", `--rows ${o.rows}: no such file`);
  // Last of the checks: a mistake in the inputs is reported first, whatever the output holds.
  refuseOverwrite(o.output, o.force);
  const params: RequestParams = { kind, model: o.model, maxTokens: o.maxTokens, temperature: o.temperature };
  const problems = new ProblemList();
  const scratch = o.idField === undefined ? undefined : new ScratchDb(o.scratchDir);
  scratch?.db.exec("CREATE TABLE ids (id TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID");
  const insertId = scratch?.db.prepare<[string, number]>("INSERT OR IGNORE INTO ids (id, n) VALUES (?, ?)");
  const firstRow = scratch?.db.prepare<[string], { n: number }>("SELECT n FROM ids WHERE id = ?");
  let out: AtomicLineWriter | undefined;
  let rows = 0;
  /** The request line for a row, or null after noting its problems. */
  const buildRow = (row: DataRow): string | null => {
    const where = `${o.rows} row ${row.n} (line ${row.line})`;
    const user = render(template, row.values);
    const sys = system ? render(system, row.values) : undefined;
    const id = customIdOf(row, o.idField);
    for (const [r, file] of [
      [user, o.template],
      [sys, o.system],
    ] as const) {
      if (r && "missing" in r) {
        problems.add(`${where}: no field ${r.missing.map((f) => `{{${f}}}`).join(", ")} (used in ${file})`);
      }
    }
    if ("problem" in id) {
      problems.add(`${where}: ${id.problem}`);
      return null;
    }
    if (insertId && insertId.run(id.id, row.n).changes === 0) {
      const first = firstRow?.get(id.id)?.n;
      problems.add(`${where}: duplicate id ${echoId(id.id)} (first on row ${first})`);
      return null;
    }
    if ("missing" in user || (sys && "missing" in sys)) return null;
    return requestLine(id.id, params, user.text, sys?.text);
  };
  const buildBatch = (batch: DataRow[]) => {
    for (const row of batch) {
      rows++;
      const line = buildRow(row);
      // After the first problem only problems are looked for: nothing will be written.
      if (line !== null && problems.count === 0) out?.write(line);
    }
  };
  try {
    out = new AtomicLineWriter(o.output);
    for await (const batch of readDataRows(o.rows)) {
      if (scratch) scratch.db.transaction(buildBatch)(batch);
      else buildBatch(batch);
    }
    if (rows === 0) throw new VbatchError("invalid_input", `${o.rows} has no data rows`);
    if (problems.count > 0) throw problemsError(o.rows, problems, "problem", "Nothing was written.");
    out.commit();
  } finally {
    out?.abort();
    scratch?.close();
  }
  return {
    rows,
    output: resolve(o.output),
    url: KIND_URL[kind],
    model: o.model,
    format: dataFormat(o.rows),
    customIds: o.idField === undefined ? "row-number" : "field",
  };
}
