// The lines the run summary and `vbatch status` show for a job sent to a provider's batch API.
import type { ProviderSummary } from "../provider/report.js";
import { int, usd } from "./format.js";

export function providerLines(p: ProviderSummary): string[] {
  const statuses = Object.entries(p.statuses)
    .map(([k, v]) => `${int(v)} ${k}`)
    .join(", ");
  const counts = Object.entries(p.requestCounts)
    .map(([k, v]) => `${int(v)} ${k}`)
    .join(", ");
  const cost = p.price
    ? `${usd(p.cost ?? 0)} at ${usd(p.price.inputPerMillion, 3)} / ${usd(p.price.outputPerMillion, 3)} per 1M in/out (${p.price.source})`
    : "unknown: pass --price <in/out> (USD per 1M tokens)";
  const lines = [
    `  provider   ${p.name} ${p.url}: ${int(p.batches)} batch${p.batches === 1 ? "" : "es"}${statuses ? ` (${statuses})` : ""}`,
  ];
  if (counts) lines.push(`  requests   ${counts} (the provider's counts)`);
  lines.push(
    `  billed     ${int(p.promptTokens)} prompt, ${int(p.completionTokens)} completion tokens; cost ${cost}`,
  );
  for (const w of p.warnings) lines.push(`  warning    ${w}`);
  return lines;
}
