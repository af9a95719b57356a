// Prompt templates: text with {{field}} placeholders filled from each data row. Parsed once, so a
// malformed template is refused before any row is read.
import { VbatchError } from "../../errors.js";

export type TemplatePart = string | { field: string };

export interface Template {
  parts: TemplatePart[];
  fields: string[];
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

export function parseTemplate(text: string, file: string): Template {
  const parts: TemplatePart[] = [];
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    const open = text.indexOf("{{", i);
    if (open === -1) break;
    const close = text.indexOf("}}", open + 2);
    const name = close === -1 ? "" : text.slice(open + 2, close).trim();
    if (close === -1 || name.includes("{")) {
      throw new VbatchError("usage", `${file} line ${lineAt(text, open)}: "{{" without a matching "}}"`);
    }
    if (name === "")
      throw new VbatchError("usage", `${file} line ${lineAt(text, open)}: empty placeholder {{}}`);
    if (open > i) parts.push(text.slice(i, open));
    parts.push({ field: name });
    if (!fields.includes(name)) fields.push(name);
    i = close + 2;
  }
  if (i < text.length) parts.push(text.slice(i));
  return { parts, fields };
}

/** A field's value: a key of the row, else a dotted path into nested objects (JSONL rows). */
export function lookup(values: Record<string, unknown>, field: string): unknown {
  if (Object.hasOwn(values, field)) return values[field];
  let cur: unknown = values;
  for (const key of field.split(".")) {
    if (typeof cur !== "object" || cur === null || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function show(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Fills the template; returns the fields the row lacks instead when there are any. */
export function render(
  t: Template,
  values: Record<string, unknown>,
): { text: string } | { missing: string[] } {
  let text = "";
  const missing: string[] = [];
  for (const p of t.parts) {
    if (typeof p === "string") {
      text += p;
      continue;
    }
    const v = lookup(values, p.field);
    if (v === undefined) missing.push(p.field);
    else text += show(v);
  }
  return missing.length > 0 ? { missing: [...new Set(missing)] } : { text };
}
