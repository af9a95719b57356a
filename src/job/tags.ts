// Job metadata (`--tag team=search`): kept in the journal, reported in the summary, and carried in
// every request id, so engine logs and spend can be attributed to the job that caused them.
import { VbatchError } from "../errors.js";

export type Tags = Record<string, string>;

const SAFE = /^[A-Za-z0-9._:-]{1,64}$/;

/** Parses "key=value" pairs; keys and values are restricted so they are safe in headers and logs. */
export function parseTags(pairs: string[]): Tags {
  const tags: Tags = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (eq <= 0 || !SAFE.test(key) || !SAFE.test(value)) {
      throw new VbatchError(
        "usage",
        `--tag ${JSON.stringify(pair)}: expected key=value, each 1-64 of A-Z a-z 0-9 . _ : -`,
      );
    }
    tags[key] = value;
  }
  return tags;
}

/** The tags as they appear in request ids: "-team=search,run=7", or "" without tags. */
export function tagSuffix(tags: Tags): string {
  const parts = Object.entries(tags).map(([k, v]) => `${k}=${v}`);
  return parts.length ? `-${parts.join(",")}` : "";
}
