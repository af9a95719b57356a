// Text that came from an input file reaches the terminal only through here. Control and escape
// characters (an ESC that would recolour or retitle the terminal, a CR that overwrites the line,
// C1 controls some terminals obey, bidirectional overrides that reorder what is shown) are
// written as visible escapes instead.

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
