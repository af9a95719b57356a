// A translated format builds a new body, so its numbers pass through JSON.parse and
// JSON.stringify: a number that would change on the way (1e400, an integer past 2^53) is refused
// at validation, with its line, rather than sent as something else.
import { unsafeNumber } from "../input/json-scan.js";

export function refuseLossyNumbers(
  text: string,
  where: string,
  customId: string | undefined,
): { ok: false; message: string; customId?: string | undefined } | null {
  const lossy = unsafeNumber(text);
  if (lossy === null) return null;
  return {
    ok: false,
    message: `${where} holds the number ${lossy.slice(0, 40)}, which cannot be carried exactly through the translation to an OpenAI request`,
    customId,
  };
}
