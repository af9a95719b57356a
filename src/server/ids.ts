// Server-generated ids, and the only gate between a URL segment and the disk or the database: an id
// that does not match its strict pattern is "not found" before anything is looked up.
import { randomBytes } from "node:crypto";

export type IdKind = "file" | "batch" | "msgbatch";

const PREFIX: Record<IdKind, string> = { file: "file-", batch: "batch_", msgbatch: "msgbatch_" };
const PATTERN: Record<IdKind, RegExp> = {
  file: /^file-[0-9a-f]{24}$/,
  batch: /^batch_[0-9a-f]{24}$/,
  msgbatch: /^msgbatch_[0-9a-f]{24}$/,
};

export function newId(kind: IdKind): string {
  return `${PREFIX[kind]}${randomBytes(12).toString("hex")}`;
}

export function isId(kind: IdKind, value: unknown): value is string {
  return typeof value === "string" && PATTERN[kind].test(value);
}

/** A request id for response headers (`x-request-id`, `request-id`). */
export function newRequestId(): string {
  return `req_${randomBytes(12).toString("hex")}`;
}
