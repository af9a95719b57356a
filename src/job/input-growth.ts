// Lines appended to the input while a job runs are never read: the validation pass fixed the
// rows, and the send pass stops at the last of them. A run that ended that way must say so, not
// report "20,000 of 20,000" as if the file held nothing more (and a rerun refuses the changed file).
import { createReadStream, statSync } from "node:fs";
import { isGzip } from "../input/open.js";

/** How much the input grew past what was validated. */
export interface InputGrowth {
  path: string;
  bytes: number;
  /** Lines in the added bytes (a last one without a line break counts). */
  lines: number;
}

/**
 * What was added to `path` after its first `validatedBytes` bytes, or null when it did not grow
 * (or cannot be told: stdin, a .gz, an old journal that did not record the length).
 */
export async function inputGrowth(path: string, validatedBytes: number | null): Promise<InputGrowth | null> {
  if (path === "-" || isGzip(path) || validatedBytes === null) return null;
  const size = statSync(path, { throwIfNoEntry: false })?.size;
  if (size === undefined || size <= validatedBytes) return null;
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(path, {
    start: validatedBytes,
    end: size - 1,
  }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    last = chunk[chunk.length - 1] ?? last;
  }
  return { path, bytes: size - validatedBytes, lines: lines + (last === 10 ? 0 : 1) };
}

/** The warning shown under the summary. */
export function growthWarning(g: InputGrowth): string {
  return `${g.path} grew by ${g.bytes.toLocaleString("en-US")} bytes (${g.lines.toLocaleString("en-US")} line${g.lines === 1 ? "" : "s"}) while the job ran: they were not read or sent. The job is complete for the input as it was validated, and a rerun of this command will refuse the changed file; put the new lines in a file of their own and run it with another -o.`;
}
