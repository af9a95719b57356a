// Every text that reaches a page (a custom_id, an engine's URL, an error message, a batch id from
// a client) goes through here: nothing the job or a client wrote is markup.
const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}
