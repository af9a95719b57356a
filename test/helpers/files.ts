// Temp dirs and JSONL helpers for tests: real files, cleaned up after each test file.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

export function tempDir(prefix = "vbatch-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface ChatRowOptions {
  model?: string | undefined;
  maxTokens?: number;
  prefix?: string;
}

export function chatRow(i: number, o: ChatRowOptions = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    messages: [{ role: "user", content: `${o.prefix ?? "question"} number ${i}` }],
    max_tokens: o.maxTokens ?? 8,
  };
  if (o.model !== undefined) body.model = o.model;
  return { custom_id: `row-${i}`, method: "POST", url: "/v1/chat/completions", body };
}

export function writeJsonl(path: string, rows: unknown[]): string {
  writeFileSync(path, `${rows.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n")}\n`);
  return path;
}

export function writeChatInput(path: string, n: number, o: ChatRowOptions = { model: "sim-model" }): string {
  return writeJsonl(
    path,
    Array.from({ length: n }, (_, i) => chatRow(i, o)),
  );
}

// biome-ignore lint/suspicious/noExplicitAny: output lines are checked field by field in tests
export type Line = any;

export function readJsonl(path: string): Line[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

/** The sim's request key for a body as vbatch sends it. */
export function requestKey(body: unknown): string {
  return createHash("sha1").update(JSON.stringify(body)).digest("hex").slice(0, 16);
}

/** custom_id -> number of lines, across files. */
export function idCounts(...files: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of files)
    for (const l of readJsonl(f)) counts.set(l.custom_id, (counts.get(l.custom_id) ?? 0) + 1);
  return counts;
}
