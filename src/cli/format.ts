// Human formatting of counts, rates and durations for the progress line and the summary.

export function int(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n >= 100 ? String(Math.round(n)) : n.toFixed(1);
}

export function duration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return "?";
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(r).padStart(2, "0")}`;
}

/** A price in dollars: cents, or more digits for a small amount. */
export function usd(n: number, maxDigits = 2): string {
  if (n > 0 && n < 0.0001) return "< $0.0001";
  const digits = n !== 0 && n < 0.01 ? 4 : maxDigits;
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: digits })}`;
}
