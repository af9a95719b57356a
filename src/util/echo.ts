// Bounds what is echoed back from the input. A custom_id may be a megabyte long; a message that
// quotes it whole is a megabyte on the terminal and in the logs, and an errors line that repeats
// an invalid one is as long. The custom_id of a valid row is a key and stays exact (it is at
// most 512 characters); everything that only shows one is cut.

/** Characters of an id shown in a message. */
export const ECHO_CHARS = 200;

/** `id` cut to `max` characters with an ellipsis and its length, or `id` when it is short. */
export function cutId(id: string, max = ECHO_CHARS): string {
  return id.length <= max ? id : `${id.slice(0, max)}…(${id.length.toLocaleString("en-US")} characters)`;
}

/** An id quoted for a message, bounded. */
export function echoId(id: string): string {
  return JSON.stringify(cutId(id));
}
