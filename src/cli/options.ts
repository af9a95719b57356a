// Flag parsing helpers shared by commands: every bad value names its flag.
import { InvalidArgumentError } from "commander";
import { endpointNote } from "../client/endpoint.js";

export function intFlag(flag: string, min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} takes an integer >= ${min}`);
    return n;
  };
}

export function numberFlag(flag: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${flag} takes a number >= ${min}`);
    return n;
  };
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function oneOf<T extends string>(flag: string, values: readonly T[]) {
  return (value: string): T => {
    if (!(values as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${flag} takes one of ${values.join(", ")}`);
    }
    return value as T;
  };
}

/** --max-line-mb, on every command that reads an input file. */
export const MAX_LINE_FLAG = [
  "--max-line-mb <n>",
  "longest input line accepted, in MB (default 64); a longer line is invalid, named by its number",
] as const;

export const maxLineMbFlag = numberFlag("--max-line-mb", 0.001);

/** The cap in bytes, or undefined for the default (a resumed job: its own). */
export function maxLineBytesOf(mb: number | undefined): number | undefined {
  return mb === undefined ? undefined : Math.max(1, Math.round(mb * 1024 * 1024));
}

/** Says once, on stderr, that an endpoint pasted with an API path is used as the server's root. */
export function noteEndpoint(value: string, flag: string): void {
  const note = endpointNote(value, flag);
  if (note) process.stderr.write(`vbatch: note: ${note}\n`);
}

/** -e/--endpoint (repeatable): kept as written, with the note above. */
export function collectEndpoint(value: string, previous: string[] | undefined): string[] {
  noteEndpoint(value, "--endpoint");
  return collect(value, previous);
}

/** -e/--endpoint (once): kept as written, with the note above. */
export function endpointFlag(value: string): string {
  noteEndpoint(value, "--endpoint");
  return value;
}
