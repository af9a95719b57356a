// OpenAI Batch output lines. A successful body is spliced in as the engine's raw text, never
// parsed and re-serialised: the bytes the engine sent are the bytes the user gets.
import { randomBytes } from "node:crypto";

let idPrefix = randomBytes(6).toString("hex");
let idCounter = 0;

/** `batch_req_<hex>`: unique per output line without a random call per row. */
export function newLineId(): string {
  idCounter++;
  if (idCounter >= 0xffffffff) {
    idPrefix = randomBytes(6).toString("hex");
    idCounter = 1;
  }
  return `batch_req_${idPrefix}${idCounter.toString(16).padStart(8, "0")}`;
}

/** A line for an answer with an HTTP status (success, or a final HTTP failure). */
export function responseLine(customId: string, status: number, requestId: string, rawBody: string): string {
  return `{"id":${JSON.stringify(newLineId())},"custom_id":${JSON.stringify(customId)},"response":{"status_code":${status},"request_id":${JSON.stringify(requestId)},"body":${rawBody}},"error":null}\n`;
}

/** A line for a failure with no HTTP answer (connection lost, invalid input, ...). */
export function errorLine(customId: string | null, code: string, message: string): string {
  return `{"id":${JSON.stringify(newLineId())},"custom_id":${JSON.stringify(customId)},"response":null,"error":${JSON.stringify({ code, message })}}\n`;
}

/** A line for an answer that arrived but is not usable (e.g. JSON that fails its schema). */
export function rejectedResponseLine(
  customId: string,
  status: number,
  requestId: string,
  rawBody: string,
  code: string,
  message: string,
): string {
  return `{"id":${JSON.stringify(newLineId())},"custom_id":${JSON.stringify(customId)},"response":{"status_code":${status},"request_id":${JSON.stringify(requestId)},"body":${rawBody}},"error":${JSON.stringify({ code, message })}}\n`;
}
