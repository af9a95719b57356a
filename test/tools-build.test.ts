// vbatch build: CSV (RFC 4180) and JSONL rows through a template into batch requests.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRow } from "../src/input/row.js";
import { CsvParser } from "../src/tools/build/csv.js";
import { buildRequests } from "../src/tools/build/index.js";
import { runCli } from "./helpers/cli.js";
import { readJsonl, tempDir, writeJsonl } from "./helpers/files.js";

const dir = tempDir();
let n = 0;
const file = (name: string, text?: string) => {
  n++;
  const p = join(dir, `${n}-${name}`);
  if (text !== undefined) writeFileSync(p, text);
  return p;
};

function parseAll(text: string, chunk = 3) {
  const p = new CsvParser();
  const out = [];
  for (let i = 0; i < text.length; i += chunk) out.push(...p.push(text.slice(i, i + chunk)));
  out.push(...p.end());
  return out;
}

describe("CsvParser", () => {
  it("reads quoted commas, line breaks and doubled quotes, in any chunking", () => {
    const text = 'id,text\r\n1,"a, b"\r\n2,"line one\nline two"\r\n\r\n3,"say ""hi"""\r\n4,\r\n5,""';
    for (const chunk of [1, 2, 3, 7, 1000]) {
      expect(parseAll(text, chunk)).toEqual([
        { fields: ["id", "text"], line: 1 },
        { fields: ["1", "a, b"], line: 2 },
        { fields: ["2", "line one\nline two"], line: 3 },
        { fields: ["3", 'say "hi"'], line: 6 },
        { fields: ["4", ""], line: 7 },
        { fields: ["5", ""], line: 8 },
      ]);
    }
  });

  it("strips a BOM and reports syntax errors with their line", () => {
    expect(parseAll("\ufeffa,b\n1,2\n")[0]?.fields).toEqual(["a", "b"]);
    expect(() => parseAll('a\n"x"y\n')).toThrow(/after a closing quote/);
    expect(() => parseAll('a\nx"y\n')).toThrow(/double quote inside an unquoted field/);
    try {
      parseAll('a\n1\n"never closed\n\n');
    } catch (err) {
      expect((err as { line: number }).line).toBe(3);
    }
    expect(() => parseAll('a\n1\n"never closed\n\n')).toThrow(/never closed/);
  });
});

describe("buildRequests", () => {
  it("builds chat requests from a CSV with quoted commas and newlines", async () => {
    const rows = file(
      "rows.csv",
      'id,name,question\n7,"Smith, Ann","What is 1+1?\nAnswer briefly."\nq8,"Bob ""B""",Why?\n',
    );
    const template = file("t.txt", "Hello {{name}}. {{ question }}");
    const system = file("s.txt", "You answer {{name}}.");
    const output = file("out.jsonl");
    const s = await buildRequests({
      template,
      rows,
      system,
      model: "m1",
      output,
      idField: "id",
      maxTokens: 32,
      temperature: 0,
    });
    expect(s).toMatchObject({ rows: 2, url: "/v1/chat/completions", format: "csv", customIds: "field" });
    const lines = readJsonl(output);
    expect(lines).toEqual([
      {
        custom_id: "7",
        method: "POST",
        url: "/v1/chat/completions",
        body: {
          model: "m1",
          messages: [
            { role: "system", content: "You answer Smith, Ann." },
            { role: "user", content: "Hello Smith, Ann. What is 1+1?\nAnswer briefly." },
          ],
          max_tokens: 32,
          temperature: 0,
        },
      },
      {
        custom_id: "q8",
        method: "POST",
        url: "/v1/chat/completions",
        body: {
          model: "m1",
          messages: [
            { role: "system", content: 'You answer Bob "B".' },
            { role: "user", content: 'Hello Bob "B". Why?' },
          ],
          max_tokens: 32,
          temperature: 0,
        },
      },
    ]);
    for (const l of readFileSync(output, "utf8").trim().split("\n")) expect(parseRow(l).ok).toBe(true);
  });

  it("builds completions and embeddings from JSONL, custom_id from the row number, nested fields", async () => {
    const rows = writeJsonl(file("rows.jsonl"), [
      { doc: { title: "A" }, n: 1 },
      "",
      { doc: { title: "B" }, n: 2.5 },
    ]);
    const template = file("t.txt", "{{doc.title}}#{{n}}");
    const out1 = file("c.jsonl");
    await buildRequests({
      template,
      rows,
      model: "m",
      output: out1,
      endpointKind: "completions",
      maxTokens: 5,
    });
    expect(readJsonl(out1)).toEqual([
      {
        custom_id: "row-1",
        method: "POST",
        url: "/v1/completions",
        body: { model: "m", prompt: "A#1", max_tokens: 5 },
      },
      {
        custom_id: "row-2",
        method: "POST",
        url: "/v1/completions",
        body: { model: "m", prompt: "B#2.5", max_tokens: 5 },
      },
    ]);
    const out2 = file("e.jsonl");
    await buildRequests({ template, rows, model: "e", output: out2, endpointKind: "embeddings" });
    expect(readJsonl(out2).map((l) => [l.url, l.body.input])).toEqual([
      ["/v1/embeddings", "A#1"],
      ["/v1/embeddings", "B#2.5"],
    ]);
  });

  it("names the data file, row, line and field of a missing placeholder, and writes nothing", async () => {
    const rows = file("rows.csv", "name,text\nAnn,hi\n");
    const rows2 = writeJsonl(file("rows.jsonl"), [{ name: "a" }, { nam: "b" }]);
    const template = file("t.txt", "{{name}}");
    const output = file("out.jsonl");
    await expect(buildRequests({ template, rows: rows2, model: "m", output })).rejects.toMatchObject({
      code: "invalid_input",
      details: [`${rows2} row 2 (line 2): no field {{name}} (used in ${template})`, "Nothing was written."],
    });
    expect(readJsonl(output)).toEqual([]);
    const t2 = file("t2.txt", "{{name}} {{missing}}");
    await expect(buildRequests({ template: t2, rows, model: "m", output })).rejects.toMatchObject({
      details: [`${rows} row 1 (line 2): no field {{missing}} (used in ${t2})`, "Nothing was written."],
    });
  });

  it("refuses duplicate ids, ragged CSV rows and bad templates", async () => {
    const template = file("t.txt", "{{q}}");
    const dup = file("dup.csv", "id,q\na,1\nb,2\na,3\n");
    await expect(
      buildRequests({ template, rows: dup, model: "m", output: file("o.jsonl"), idField: "id" }),
    ).rejects.toMatchObject({
      details: [`${dup} row 3 (line 4): duplicate id "a" (first on row 1)`, "Nothing was written."],
    });
    const ragged = file("ragged.csv", 'id,q\na,"1\n2"\nb,2,3\n');
    await expect(
      buildRequests({ template, rows: ragged, model: "m", output: file("o.jsonl") }),
    ).rejects.toThrow(`${ragged} row 2 (line 4): 3 fields, but the header has 2`);
    const bad = file("bad.txt", "ok\n{{ q }} and {{oops");
    await expect(
      buildRequests({ template: bad, rows: dup, model: "m", output: file("o.jsonl") }),
    ).rejects.toThrow(`${bad} line 2: "{{" without a matching "}}"`);
  });

  it("works from the CLI; bad flags exit 2 naming the flag", async () => {
    const rows = file("rows.csv", "q\nx\ny\n");
    const template = file("t.txt", "Q: {{q}}");
    const output = file("o.jsonl");
    const ok = await runCli([
      "build",
      "--template",
      template,
      "--rows",
      rows,
      "-m",
      "m",
      "-o",
      output,
      "--json",
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ rows: 2, customIds: "row-number" });
    expect(readJsonl(output).map((l) => l.custom_id)).toEqual(["row-1", "row-2"]);
    const bad = await runCli([
      "build",
      "--template",
      template,
      "--rows",
      rows,
      "-m",
      "m",
      "-o",
      output,
      "--endpoint-kind",
      "x",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--endpoint-kind takes one of chat, completions, embeddings/);
    const missing = await runCli([
      "build",
      "--template",
      template,
      "--rows",
      join(dir, "nope.csv"),
      "-m",
      "m",
      "-o",
      output,
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.csv/);
  });
});
