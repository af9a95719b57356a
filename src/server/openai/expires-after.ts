// OpenAI's expires_after (files) and output_expires_after (batches): {anchor: "created_at",
// seconds}, seconds between 3600 (1 hour) and 2592000 (30 days) (openai-node src/resources/
// batches.ts and files.ts). The anchor is the file's creation time.
import { badRequest } from "../http/respond.js";

export const MIN_EXPIRES_SECONDS = 3600;
export const MAX_EXPIRES_SECONDS = 2_592_000;

/** The seconds of an expires_after given as {anchor, seconds}, or null when it is absent. */
export function expiresAfterSeconds(anchor: unknown, seconds: unknown, param: string): number | null {
  if (anchor === undefined && seconds === undefined) return null;
  if (anchor !== "created_at") {
    throw badRequest(`${param}.anchor must be 'created_at'`, `${param}.anchor`, "invalid_value");
  }
  const s = typeof seconds === "string" && /^\d+$/.test(seconds) ? Number(seconds) : seconds;
  if (typeof s !== "number" || !Number.isInteger(s) || s < MIN_EXPIRES_SECONDS || s > MAX_EXPIRES_SECONDS) {
    throw badRequest(
      `${param}.seconds must be an integer between ${MIN_EXPIRES_SECONDS} (1 hour) and ${MAX_EXPIRES_SECONDS} (30 days)`,
      `${param}.seconds`,
      "invalid_value",
    );
  }
  return s;
}

/**
 * When a file made at `now` (ms) expires: `seconds` after it when an expires_after gave them,
 * never later than the retention period (`retentionMs`).
 */
export function expiresAt(now: number, retentionMs: number, seconds: number | null): number {
  const retention = now + retentionMs;
  return seconds === null ? retention : Math.min(retention, now + seconds * 1000);
}
