// The errors of translating Anthropic Messages params, and the one key check every object of a
// request goes through: the Messages API refuses a key its schema lacks ("frobnicate: Extra inputs
// are not permitted", test/fixtures/transcripts/anthropic-extra-inputs.txt), and so does vbatch.
export class TranslateError extends Error {
  constructor(
    /** Where in params, dotted ("messages.0.content.1"); "" for params itself. */
    readonly path: string,
    readonly detail: string,
  ) {
    super(path ? `${path}: ${detail}` : detail);
  }

  /** The message with the path under `prefix` ("params", "requests.3.params"). */
  under(prefix: string): string {
    return `${prefix}${this.path ? `.${this.path}` : ""}: ${this.detail}`;
  }
}

export const EXTRA_INPUTS = "Extra inputs are not permitted";

/**
 * Refuses each key of `o` that is neither `carried` nor named in `refused` (a key Anthropic knows
 * and vLLM has no equivalent for, with why).
 */
export function checkKeys(
  o: Record<string, unknown>,
  carried: ReadonlySet<string>,
  path: string,
  refused: Readonly<Record<string, string>> = {},
): void {
  for (const k of Object.keys(o)) {
    if (carried.has(k)) continue;
    const at = path ? `${path}.${k}` : k;
    const why = Object.hasOwn(refused, k) ? refused[k] : undefined;
    throw new TranslateError(at, why ?? EXTRA_INPUTS);
  }
}
