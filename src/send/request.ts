// One request on the wire, paced by --max-rps when it is set (Bottleneck): every failure to get
// an HTTP answer becomes a TransportFailure, and an engine that refuses request priorities is
// named once in the log rather than on every row.
import Bottleneck from "bottleneck";
import type { Logger } from "pino";
import { TransportFailure, type WireResponse } from "../client/wire.js";
import type { Engine } from "../pool/engine.js";
import type { SendJob } from "./send-job.js";

export class RequestSender {
  private readonly limiter: Bottleneck | undefined;
  private warnedPriority = false;

  constructor(
    maxRequestsPerSecond: number | undefined,
    private readonly logger?: Logger | undefined,
  ) {
    if (maxRequestsPerSecond) {
      this.limiter = new Bottleneck({ minTime: 1000 / maxRequestsPerSecond, maxConcurrent: null });
    }
  }

  /** Sends `job` to `engine` (which counted it in flight when it was picked) and counts it out. */
  async send(engine: Engine, job: SendJob, requestId: string): Promise<WireResponse | TransportFailure> {
    const send = () => engine.transport.send({ path: job.url, body: job.body, requestId });
    try {
      return this.limiter ? await this.limiter.schedule(send) : await send();
    } catch (err) {
      return err instanceof TransportFailure
        ? err
        : new TransportFailure("connection", (err as Error).message, err);
    } finally {
      engine.inFlight--;
    }
  }

  warnAboutPriority(engine: Engine, result: WireResponse | TransportFailure): void {
    if (this.warnedPriority || result instanceof TransportFailure || result.status !== 400) return;
    if (/priority scheduling is not enabled/i.test(result.body)) {
      this.warnedPriority = true;
      this.logger?.error(
        { engine: engine.base },
        "the engine refuses request priorities: start vLLM with --scheduling-policy priority, or drop --priority",
      );
    }
  }

  /** Drops requests still waiting for their turn (a stopped run). */
  async stop(): Promise<void> {
    await this.limiter?.stop({ dropWaitingJobs: true }).catch(() => {});
  }
}
