// ASCII control characters (U+0000-U+001F and DEL): never printable, and never allowed in an HTTP
// header value.

/** True for a control character (`ch` is one character, or a string tested by its first). */
export function isControlChar(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return c < 32 || c === 127;
}

/** `s` without its control characters. */
export function stripControlChars(s: string): string {
  return [...s].filter((ch) => !isControlChar(ch)).join("");
}
