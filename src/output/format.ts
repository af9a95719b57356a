// OpenAI Batch output lines. A successful body is spliced in as the engine's raw text, never
// parsed and re-serialised: the bytes the engine sent are the bytes the user gets. Each line's id
// is made from the job and the row, so a row answered again after a crash gets the same id.

/** `batch_req_<job><line>`: unique within a job, the same every time that row is answered. */
export function lineId(jobId: string, line: number): string {
  return `batch_req_${jobId}${line.toString(16).padStart(8, "0")}`;
}

/** A line for an answer with an HTTP status (success, or a final HTTP failure). */
export function responseLine(
  id: string,
  customId: string,
  status: number,
  requestId: string,
  rawBody: string,
): string {
  return `{"id":${JSON.stringify(id)},"custom_id":${JSON.stringify(customId)},"response":{"status_code":${status},"request_id":${JSON.stringify(requestId)},"body":${rawBody}},"error":null}\n`;
}

/** A line for a failure with no HTTP answer (connection lost, invalid input, ...). */
export function errorLine(id: string, customId: string | null, code: string, message: string): string {
  return `{"id":${JSON.stringify(id)},"custom_id":${JSON.stringify(customId)},"response":null,"error":${JSON.stringify({ code, message })}}\n`;
}

/** A line for an answer that arrived but is not usable (e.g. JSON that fails its schema). */
export function rejectedResponseLine(
  id: string,
  customId: string,
  status: number,
  requestId: string,
  rawBody: string,
  code: string,
  message: string,
): string {
  return `{"id":${JSON.stringify(id)},"custom_id":${JSON.stringify(customId)},"response":{"status_code":${status},"request_id":${JSON.stringify(requestId)},"body":${rawBody}},"error":${JSON.stringify({ code, message })}}\n`;
}
