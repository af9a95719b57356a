// completion_window: OpenAI accepts only "24h"; vbatch also takes <n>s, <n>m and <n>h so a short
// deadline can be tried (and tested) without waiting a day.
export function parseWindow(text: string): number | undefined {
  const m = /^(\d{1,7})(s|m|h)$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (n < 1) return undefined;
  return n * (m[2] === "s" ? 1000 : m[2] === "m" ? 60_000 : 3_600_000);
}
