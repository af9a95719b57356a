// A server that cannot listen says which flag to change, in one line: a port in use or not
// allowed (--port), an address that does not resolve or is not this machine's (--host).
import { VbatchError } from "../errors.js";

export function listenError(err: unknown, host: string, port: number): VbatchError {
  const code = (err as { code?: unknown }).code;
  const why = (err as Error).message;
  if (code === "EADDRINUSE") {
    return new VbatchError(
      "usage",
      `--port ${port} is in use (pick another, or --port 0 for any free port)`,
      {
        cause: err,
      },
    );
  }
  if (code === "EACCES") {
    return new VbatchError("usage", `--port ${port} needs privileges this process lacks (${why})`, {
      cause: err,
    });
  }
  if (code === "ENOTFOUND" || code === "EADDRNOTAVAIL" || code === "EAI_AGAIN" || code === "EAFNOSUPPORT") {
    return new VbatchError("usage", `--host ${host} is not an address this machine can listen on (${why})`, {
      cause: err,
    });
  }
  return new VbatchError("io", `cannot listen on ${host}:${port}: ${why}`, { cause: err });
}
