// One error type for everything that ends a command: a stable string code, an exit code, and the
// cause. Row failures are never thrown; they are records in the journal and the errors file.

export type ErrorCode =
  | "usage"
  | "invalid_input"
  | "input_changed"
  | "job_running"
  | "job_taken"
  | "no_endpoint"
  | "engine_unavailable"
  | "io"
  | "interrupted"
  | "internal";

const EXIT_CODES: Record<ErrorCode, number> = {
  usage: 2,
  invalid_input: 2,
  input_changed: 2,
  job_running: 2,
  job_taken: 1,
  no_endpoint: 1,
  engine_unavailable: 1,
  io: 1,
  interrupted: 130,
  internal: 1,
};

export class VbatchError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  /** Extra lines shown under the message (e.g. one per invalid input line). */
  readonly details: string[];

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "VbatchError";
    this.code = code;
    this.exitCode = EXIT_CODES[code];
    this.details = options.details ?? [];
  }
}

export function usageError(message: string): VbatchError {
  return new VbatchError("usage", message);
}
