// Bodies as text: the scanner that finds a member without parsing, the body a row sends (its own
// bytes, defaults spliced in), what validation refuses, and what reaches the terminal.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { printable } from "../src/cli/printable.js";
import {
  memberSpan,
  nestedDeeperThan,
  prependMembers,
  unsafeNumber,
  withMember,
} from "../src/input/json-scan.js";
import { readLineBatches } from "../src/input/lines.js";
import { bodyWithDefaults, MAX_JSON_DEPTH, parseLine, parseRow } from "../src/input/row.js";

const at = (text: string, key: string) => {
  const span = memberSpan(text, key);
  return span ? text.slice(span[0], span[1]) : null;
};

describe("memberSpan", () => {
  it("finds a top-level member's value as written, whatever it holds", () => {
    const text = ' { "a" : [1, {"body": 2}] , "body":{"x":"}\\"{","n":1e400} ,"z":null}';
    expect(at(text, "body")).toBe('{"x":"}\\"{","n":1e400}');
    expect(at(text, "a")).toBe('[1, {"body": 2}]');
    expect(at(text, "z")).toBe("null");
    expect(at(text, "missing")).toBeNull();
  });
  it("takes the last of repeated names, as JSON.parse does, and matches escaped names", () => {
    expect(at('{"body":1,"body":2}', "body")).toBe("2");
    expect(at('{"b\\u006fdy":"x"}', "body")).toBe('"x"');
    expect(at("[1]", "body")).toBeNull();
  });
});

describe("editing a body as text", () => {
  it("puts members first, in an empty object too", () => {
    expect(prependMembers('{"a":1}', [["model", '"m"']])).toBe('{"model":"m","a":1}');
    expect(prependMembers("{ }", [["model", '"m"']])).toBe('{"model":"m" }');
    expect(prependMembers("{}", [])).toBe("{}");
    expect(withMember('{"model":"a","n":1e400}', "model", '"b"')).toBe('{"model":"b","n":1e400}');
    expect(withMember('{"n":1}', "model", '"b"')).toBe('{"model":"b","n":1}');
  });
  it("a row's body is its own text, with the model and priority it lacks put in", () => {
    const line =
      '{"custom_id":"a","method":"POST","url":"/v1/chat/completions","priority":-2,"body":{"messages":[],"seed":123456789012345678901,"x":1e400}}';
    const r = parseRow(line);
    if (!r.ok) throw new Error(r.message);
    expect(r.row.bodyText).toBe('{"priority":-2,"messages":[],"seed":123456789012345678901,"x":1e400}');
    expect(bodyWithDefaults(r.row, { model: "m", priority: 5 })).toBe(
      '{"model":"m","priority":-2,"messages":[],"seed":123456789012345678901,"x":1e400}',
    );
  });
});

describe("what validation refuses", () => {
  const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
  it("nesting past the limit, counted outside strings only", () => {
    expect(nestedDeeperThan(deep(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestedDeeperThan(deep(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(nestedDeeperThan(`"${"[".repeat(10_000)}"`, 4)).toBe(false);
    expect(nestedDeeperThan(`["\\"${"[".repeat(10)}"]`, 4)).toBe(false);
    const r = parseRow(`{"custom_id":"deep","body":${deep(100_000)}}`);
    expect(r).toMatchObject({
      ok: false,
      customId: "deep",
      message: expect.stringMatching(/deeper than 256/),
    });
  });
  it("bytes that are not UTF-8, wherever they are", () => {
    const raw = Buffer.from('{"custom_id":"\xff"}', "latin1");
    expect(parseLine({ lineNo: 1, text: raw.toString("utf8"), raw, offset: 0 })).toMatchObject({
      ok: false,
      message: "line is not valid UTF-8",
    });
  });
  it("an Anthropic line holding a number a translation would change", () => {
    const line = (n: string) =>
      `{"custom_id":"a","params":{"model":"m","max_tokens":${n},"messages":[{"role":"user","content":"hi"}]}}`;
    expect(parseRow(line("16")).ok).toBe(true);
    expect(parseRow(line("1e400"))).toMatchObject({ ok: false, message: expect.stringMatching(/1e400/) });
    expect(parseRow(line("9007199254740993"))).toMatchObject({ ok: false });
    expect(unsafeNumber('{"a":"1e400","b":-0.5,"c":9007199254740991}')).toBeNull();
  });
});

describe("input bytes", () => {
  it("skips a UTF-8 byte-order mark at the start of a file, even split across chunks", async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n{"b":2}')]);
    const lines: string[] = [];
    for await (const b of readLineBatches(
      Readable.from([bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2)]),
    ))
      lines.push(...b.map((l) => `${l.lineNo}:${l.text}`));
    expect(lines).toEqual(['1:{"a":1}', '2:{"b":2}']);
  });
  it("shows control, escape and bidi characters escaped on the terminal", () => {
    expect(printable("a\u001b[31mb\u0007c\rd\u009be\u202ef\tg")).toBe(
      "a\\x1b[31mb\\x07c\\x0dd\\x9be\\u202ef\tg",
    );
  });
});
