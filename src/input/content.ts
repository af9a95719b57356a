// The text of a chat message's content, which OpenAI allows as a string or as content parts.
import { isPlainObject } from "../util/object.js";

export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let text = "";
  for (const part of content) {
    if (typeof part === "string") text += part;
    else if (isPlainObject(part) && typeof part.text === "string") text += part.text;
  }
  return text;
}
