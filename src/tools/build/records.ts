// The data rows a build turns into requests, from JSONL (one object a line) or CSV (a header row
// naming the fields), streamed in batches. Each row knows its number and line for messages.
import { StringDecoder } from "node:string_decoder";
import { VbatchError } from "../../errors.js";
import { readLineBatches, tooLongMessage } from "../../input/lines.js";
import { openInput } from "../../input/open.js";
import { isPlainObject } from "../../input/row.js";
import { CsvParser, type CsvRecord, CsvSyntaxError } from "./csv.js";

export interface DataRow {
  /** 1-based data row number (the CSV header is not a row). */
  n: number;
  /** Physical line the row starts on. */
  line: number;
  values: Record<string, unknown>;
}

export type DataFormat = "csv" | "jsonl";

export function dataFormat(path: string): DataFormat {
  return /\.csv(\.gz)?$/i.test(path) ? "csv" : "jsonl";
}

async function* jsonlRows(path: string): AsyncGenerator<DataRow[]> {
  let n = 0;
  for await (const batch of readLineBatches(openInput(path))) {
    const rows: DataRow[] = [];
    for (const l of batch) {
      n++;
      if (l.tooLong)
        throw new VbatchError("invalid_input", `${path} line ${l.lineNo}: ${tooLongMessage(l.tooLong, "")}`);
      let value: unknown;
      try {
        value = JSON.parse(l.text);
      } catch (err) {
        throw new VbatchError(
          "invalid_input",
          `${path} line ${l.lineNo}: malformed JSON (${(err as Error).message})`,
        );
      }
      if (!isPlainObject(value)) {
        throw new VbatchError("invalid_input", `${path} line ${l.lineNo}: expected a JSON object per line`);
      }
      rows.push({ n, line: l.lineNo, values: value });
    }
    yield rows;
  }
}

async function* csvRows(path: string): AsyncGenerator<DataRow[]> {
  const parser = new CsvParser();
  const decoder = new StringDecoder("utf8");
  let header: string[] | null = null;
  let n = 0;
  const toRows = (records: CsvRecord[]): DataRow[] => {
    const rows: DataRow[] = [];
    for (const r of records) {
      if (header === null) {
        header = r.fields;
        const seen = new Set<string>();
        for (const h of header) {
          if (seen.has(h)) {
            throw new VbatchError(
              "invalid_input",
              `${path} line ${r.line}: the header names column ${JSON.stringify(h)} twice`,
            );
          }
          seen.add(h);
        }
        continue;
      }
      n++;
      if (r.fields.length !== header.length) {
        throw new VbatchError(
          "invalid_input",
          `${path} row ${n} (line ${r.line}): ${r.fields.length} fields, but the header has ${header.length}`,
        );
      }
      const values: Record<string, unknown> = {};
      header.forEach((h, i) => {
        values[h] = r.fields[i];
      });
      rows.push({ n, line: r.line, values });
    }
    return rows;
  };
  try {
    for await (const chunk of openInput(path) as AsyncIterable<Buffer>) {
      const rows = toRows(parser.push(decoder.write(chunk)));
      if (rows.length > 0) yield rows;
    }
    const rows = toRows([...parser.push(decoder.end()), ...parser.end()]);
    if (rows.length > 0) yield rows;
  } catch (err) {
    if (err instanceof CsvSyntaxError) {
      throw new VbatchError("invalid_input", `${path} line ${err.line}: ${err.message}`);
    }
    throw err;
  }
}

export function readDataRows(path: string): AsyncGenerator<DataRow[]> {
  return dataFormat(path) === "csv" ? csvRows(path) : jsonlRows(path);
}
