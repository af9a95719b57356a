// The error lines of refused input lines are written after validation, from the journal, which
// keeps only each line's number and message. A format whose results repeat their input (Bedrock)
// needs the line's own text, so those lines are read again from the input, once, in one pass.
import { isUtf8 } from "node:buffer";
import { readLineBatches } from "../input/lines.js";
import { openInput } from "../input/open.js";
import { formatNamed } from "./index.js";
import type { FormatName, OutputShape } from "./types.js";

/** Each refused line's output shape, by line number (just the format when it repeats nothing). */
export async function invalidLineShapes(
  format: FormatName,
  inputFile: string,
  lines: readonly number[],
): Promise<(line: number) => OutputShape> {
  const f = formatNamed(format);
  const plain: OutputShape = { format };
  const invalidShape = f.invalidShape?.bind(f);
  if (!invalidShape || lines.length === 0) return () => plain;
  const wanted = new Set(lines);
  const last = lines.reduce((a, b) => Math.max(a, b), 0);
  const shapes = new Map<number, OutputShape>();
  const stream = openInput(inputFile);
  try {
    read: for await (const batch of readLineBatches(stream)) {
      for (const l of batch) {
        if (l.lineNo > last) break read;
        // A line that is not UTF-8 has no text to repeat as written.
        if (wanted.has(l.lineNo) && isUtf8(l.raw)) shapes.set(l.lineNo, invalidShape(l.text));
      }
    }
  } finally {
    stream.destroy();
  }
  return (line) => shapes.get(line) ?? plain;
}
