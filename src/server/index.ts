// `vbatch serve` as a library: the OpenAI Files/Batches and Anthropic Message Batches APIs over
// self-hosted engines, one process and one SQLite file. Tests and the CLI both call startServer.
import type { AddressInfo } from "node:net";
import type { VbatchError } from "../errors.js";
import { acquireLock, lockPathOf } from "../journal/lock.js";
import { clearOwner, readOwnerOf } from "../journal/owner.js";
import { listenError } from "../util/listen-error.js";
import { urlHost } from "../util/url-host.js";
import type { JobContext, ServerContext } from "./context.js";
import { KeyRing } from "./http/auth.js";
import { createApiServer } from "./http/server.js";
import { BatchScheduler } from "./jobs/scheduler.js";
import { DataLayout } from "./layout.js";
import { resolveServerOptions, type ServerOptions } from "./options.js";
import { claimStateDb, type Ownership } from "./ownership.js";
import { Sessions } from "./pages/sessions.js";
import { startRetention } from "./retention.js";
import { apiRoutes } from "./routes.js";
import { BatchStore } from "./store/batches.js";
import { openStateDb } from "./store/db.js";
import { FileStore } from "./store/files.js";

export type { BatchRunSettings, ServerOptions } from "./options.js";
export { isLoopback, parseDuration } from "./options.js";

export interface RunningServer {
  /** http://host:port (append /v1 for the OpenAI SDK's baseURL). */
  url: string;
  port: number;
  /** Stops accepting requests, stops running batches without ending them (a restart resumes them). */
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const o = resolveServerOptions(options);
  const layout = new DataLayout(o.dataDir);
  // One server per data dir: two would run the same batches twice into the same files.
  const lock = acquireLock(
    lockPathOf(layout.db),
    `vbatch serve on ${o.dataDir}`,
    () => readOwnerOf(layout.db),
    "Stop it first, or give this server another --data directory.",
  );
  let db: ReturnType<typeof openStateDb>;
  let owned: Ownership;
  // Set once the server is up: another server taking the data dir over stops this one.
  let onLost: (err: VbatchError) => void = () => {};
  try {
    db = openStateDb(layout.db);
    owned = claimStateDb(db, layout.db, `vbatch serve on ${o.dataDir}`, (err) => onLost(err));
  } catch (err) {
    lock.release();
    throw err;
  }
  const releases: (() => unknown)[] = [
    () => lock.release(),
    () => db.close(),
    () => clearOwner(db, owned.token),
    () => owned.stop(),
  ];
  const release = async () => {
    for (const r of releases.splice(0).reverse()) {
      try {
        await r();
      } catch (err) {
        o.logger?.warn({ err: (err as Error).message }, "cleanup failed");
      }
    }
  };
  try {
    const jobs: JobContext = {
      options: o,
      layout,
      files: new FileStore(db),
      batches: new BatchStore(db),
      log: o.logger,
    };
    const ctx = serverContext(jobs);
    releases.push(() => ctx.scheduler.close());
    releases.push(startRetention(ctx, o.sweepIntervalMs));

    // Before listening, so no request can find a batch that is neither queued nor running.
    ctx.scheduler.recover();
    const server = createApiServer(ctx, apiRoutes());
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err) => reject(listenError(err, o.host, o.port)));
      server.listen(o.port, o.host, () => resolve());
    });
    releases.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const url = `http://${urlHost(o.host)}:${port}`;
    o.logger?.info({ url, data: o.dataDir, engines: o.endpoints, auth: o.apiKeys.length > 0 }, "serving");
    onLost = (err) => {
      o.logger?.error({ err: err.message }, "data dir taken over; stopping");
      void release().then(() => options.onLost?.(err));
    };
    return { url, port, close: release };
  } catch (err) {
    await release();
    throw err;
  }
}

/** What request handlers get: the job's context, the scheduler, the keys and browser sessions. */
function serverContext(jobs: JobContext): ServerContext {
  return {
    ...jobs,
    scheduler: new BatchScheduler(jobs),
    keys: new KeyRing(jobs.options.apiKeys),
    sessions: new Sessions(),
  };
}
