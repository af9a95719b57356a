// A batch file that is JSON but not JSONL (one array of requests, or objects pretty-printed over
// many lines) makes every line "malformed JSON", which hides the one thing to fix. Its shape is
// plain from a line or two, so it is named in one line with the command that converts it.

export interface NotJsonl {
  kind: "array" | "pretty";
  /** The line that shows it. */
  line: number;
}

/** What a line says about the file's shape: `first` for its first non-blank line. */
export function notJsonlLine(text: string, lineNo: number, first: boolean): NotJsonl | null {
  const t = text.trim();
  if (first && t.startsWith("[")) return { kind: "array", line: lineNo };
  if (t === "{") return { kind: "pretty", line: lineNo };
  return null;
}

/** A path as one shell word. */
function shellWord(path: string): string {
  return /^[\w./@%+=:,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** Where the converted file would go: x.json -> x.jsonl, x.jsonl -> x.fixed.jsonl. */
function convertedName(path: string): string {
  if (/\.json$/i.test(path)) return `${path}l`;
  if (/\.jsonl$/i.test(path)) return path.replace(/\.jsonl$/i, ".fixed.jsonl");
  return `${path}.jsonl`;
}

/** The one-line refusal: what the file is and the jq command that makes it JSONL. */
export function notJsonlMessage(displayPath: string, shape: NotJsonl): string {
  const what =
    shape.kind === "array"
      ? "this is one JSON array, not JSONL (one JSON object per line)"
      : `"{" alone on a line: this is pretty-printed JSON, not JSONL (one JSON object per line)`;
  const filter = shape.kind === "array" ? "'.[]'" : ".";
  const fix =
    displayPath === "stdin"
      ? `pipe it through jq -c ${filter} first`
      : `convert it with: jq -c ${filter} ${shellWord(displayPath)} > ${shellWord(convertedName(displayPath))}`;
  return `${displayPath} line ${shape.line}: ${what}; ${fix}`;
}
