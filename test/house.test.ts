// Keeps src/ a house a newcomer can read: no import circles (type imports included), no file or
// folder past a reader's patience, no function longer than a screen. The measures are
// scripts/house.mjs (`node scripts/house.mjs` prints them).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HouseMeasures, measureHouse } from "../scripts/house.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const MAX_FILE_LINES = 300;
const MAX_FOLDER_FILES = 15;
const MAX_FUNCTION_LINES = 80;
/** Files allowed past MAX_FILE_LINES, each with its own limit and the reason one file holds it. */
const LONG_FILES: Record<string, { max: number; why: string }> = {
  "src/send/runner.ts": {
    max: 320,
    why: "the send loop (read, queue, one attempt and what its answer means, stop) reads top to bottom in one place",
  },
};

describe("the house", () => {
  let m: HouseMeasures;
  beforeAll(() => {
    m = measureHouse(root, MAX_FUNCTION_LINES);
  });

  it("has no import circles in src/, type imports included", () => {
    expect(m.cycles).toEqual([]);
  });

  it(`has no file over ${MAX_FILE_LINES} lines but the allowed ones`, () => {
    const over = m.files.filter((f) => f.lines > (LONG_FILES[f.file]?.max ?? MAX_FILE_LINES));
    expect(over).toEqual([]);
    // An allowance nobody needs any more goes.
    for (const file of Object.keys(LONG_FILES)) {
      expect(m.files.find((f) => f.file === file)?.lines ?? 0).toBeGreaterThan(MAX_FILE_LINES);
    }
  });

  it(`has no folder with more than ${MAX_FOLDER_FILES} files`, () => {
    expect(m.folders.filter((f) => f.files > MAX_FOLDER_FILES)).toEqual([]);
  });

  it(`has no function longer than ${MAX_FUNCTION_LINES} lines`, () => {
    expect(m.functions.filter((f) => f.lines > MAX_FUNCTION_LINES)).toEqual([]);
  });
});

describe("the house's measures", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "vbatch-house-"));
    const put = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    // A circle made only of type imports, through a folder's index, and one file outside it.
    put(
      "src/a/index.ts",
      'export type { B } from "../b.js";\nexport interface A { b?: import("../b.js").B }\n',
    );
    put("src/b.ts", 'import type { A } from "./a/index.js";\nexport interface B { a?: A }\n');
    put(
      "src/c.ts",
      `import type { A } from "./a/index.js";\nexport const long = (a: A) => {\n${"  void a;\n".repeat(90)}};\n`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finds a circle of type imports, a long arrow function by its name, and counts files and lines", () => {
    const got = measureHouse(dir);
    expect(got.cycles).toEqual([["src/a/index.ts", "src/b.ts"]]);
    expect(got.functions[0]).toEqual({ file: "src/c.ts", name: "long", lines: 92 });
    expect(got.files[0]).toEqual({ file: "src/c.ts", lines: 93 });
    expect(got.folders).toEqual([
      { dir: "src", files: 2 },
      { dir: "src/a", files: 1 },
    ]);
  });
});
