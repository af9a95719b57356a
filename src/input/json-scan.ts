// Reading JSON text without parsing it into values, so a request body can be sent as the bytes the
// user wrote: 1e400 stays 1e400 and 123456789012345678901 keeps every digit, where JSON.parse and
// JSON.stringify would turn them into null and 123456789012345680000. Iterative throughout: a
// hostile line nested 100,000 levels deep costs a loop, never the stack.

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function skipSpace(text: string, i: number): number {
  let j = i;
  while (j < text.length && isSpace(text.charCodeAt(j))) j++;
  return j;
}

/** Index just past the string that opens at `i` (a quote); text.length when it never closes. */
function skipString(text: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return text.length;
    let backslashes = 0;
    for (let k = q - 1; k > i && text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** True when arrays and objects in `text` nest deeper than `limit` (strings are skipped). */
export function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = skipString(text, i) - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** Index just past the JSON value that starts at `i` (valid JSON assumed). */
function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return skipString(text, i);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d === QUOTE) j = skipString(text, j) - 1;
      else if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
      else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
        if (--depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  let j = i;
  for (; j < text.length; j++) {
    const d = text.charCodeAt(j);
    if (d === 44 || d === CLOSE_BRACE || d === CLOSE_BRACKET || isSpace(d)) break;
  }
  return j;
}

/**
 * Where the value of the top-level member `key` of the JSON object `text` starts and ends, or null.
 * The text must be valid JSON (parse it first). The last member of that name wins, as in
 * JSON.parse; escaped names ("m\u006fdel") are matched by what they mean.
 */
export function memberSpan(text: string, key: string): [number, number] | null {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return null;
  i = skipSpace(text, i + 1);
  let found: [number, number] | null = null;
  while (i < text.length && text.charCodeAt(i) === QUOTE) {
    const keyEnd = skipString(text, i);
    const raw = text.slice(i + 1, keyEnd - 1);
    const name = raw.includes("\\") ? (JSON.parse(text.slice(i, keyEnd)) as string) : raw;
    i = skipSpace(text, keyEnd);
    i = skipSpace(text, i + 1); // past the colon
    const end = skipValue(text, i);
    if (name === key) found = [i, end];
    i = skipSpace(text, end);
    if (text.charCodeAt(i) !== 44) break; // no comma: the closing brace
    i = skipSpace(text, i + 1);
  }
  return found;
}

/** The object `text` with members (name, JSON value text) put first: `{"model":"m",...}`. */
export function prependMembers(text: string, members: readonly (readonly [string, string])[]): string {
  if (members.length === 0) return text;
  const open = text.indexOf("{");
  const added = members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",");
  const rest = skipSpace(text, open + 1);
  const empty = text.charCodeAt(rest) === CLOSE_BRACE;
  return `${text.slice(0, open + 1)}${added}${empty ? "" : ","}${text.slice(open + 1)}`;
}

/** The object `text` with member `key` set to the JSON value text `value` (replaced, or put first). */
export function withMember(text: string, key: string, value: string): string {
  const span = memberSpan(text, key);
  if (span === null) return prependMembers(text, [[key, value]]);
  return `${text.slice(0, span[0])}${value}${text.slice(span[1])}`;
}

/**
 * The first number in `text` that a JavaScript number cannot hold: beyond the double range
 * (1e400) or an integer past 2^53. Null when every number survives JSON.parse exactly as meant.
 */
export function unsafeNumber(text: string): string | null {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = skipString(text, i) - 1;
      continue;
    }
    if (c !== 45 && (c < 48 || c > 57)) continue; // "-" or a digit starts a number
    let j = i + 1;
    let integer = true;
    for (; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d >= 48 && d <= 57) continue;
      if (d === 46 || d === 101 || d === 69 || d === 43 || d === 45) {
        integer = false;
        continue;
      }
      break;
    }
    const token = text.slice(i, j);
    const value = Number(token);
    if (!Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) return token;
    i = j - 1;
  }
  return null;
}
