// pino for the machine-readable log: to --log-file, or stderr. Keys never reach it: the options
// object is never logged whole, and pino's redaction covers the header names that carry keys.
import { type Logger, pino } from "pino";

export interface LoggerOptions {
  level?: string | undefined;
  file?: string | undefined;
  /** Quieter default on stderr while a progress line is drawn there. */
  progressOnStderr: boolean;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export function createLogger(o: LoggerOptions): Logger {
  const level = o.level ?? (o.file ? "info" : o.progressOnStderr ? "warn" : "info");
  const dest = o.file ? pino.destination({ dest: o.file, sync: true, mkdir: true }) : pino.destination(2);
  return pino(
    {
      name: "vbatch",
      level,
      redact: {
        paths: ["apiKey", "*.apiKey", "authorization", "*.authorization", "headers.authorization"],
        censor: "[redacted]",
      },
    },
    dest,
  );
}
