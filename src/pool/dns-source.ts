// `--endpoints-dns`: every address a name resolves to is an engine (a Kubernetes headless Service
// lists one A/AAAA record per ready pod), re-resolved while the job runs so pods that come and go
// join and leave the pool through the runner's EngineSource events.

import { Resolver } from "node:dns/promises";
import { EventEmitter } from "node:events";
import { isIP } from "node:net";
import type { Logger } from "pino";
import { VbatchError } from "../errors.js";
import type { EngineSource } from "../job/options.js";
import { pause } from "../util/pause.js";
import { candidateNames, type DnsTarget, readSearchConfig, type SearchConfig } from "./dns-names.js";

export interface DnsSourceOptions {
  /** The name (or IP address) to resolve, and the port every engine listens on. */
  target: DnsTarget;
  /** How often the name is resolved again while the job runs, in ms. @default 5000 */
  intervalMs?: number | undefined;
  /** DNS servers to ask ("ip" or "ip:port"). @default the system's (resolv.conf) */
  servers?: string[] | undefined;
  /** Where the search list and ndots come from. @default "/etc/resolv.conf" */
  resolvConf?: string | undefined;
  /** One query's timeout, in ms (c-ares tries twice). @default 2000 */
  queryTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
}

export interface DnsWaitOptions {
  /** How long to wait for the name to list a first address, in ms. */
  waitMs: number;
  /** Stops the wait (Ctrl-C). */
  signal?: AbortSignal | undefined;
}

/** No such name, or no record of that type: the answer is "no engine", not a failure. */
const NOT_FOUND = new Set(["ENOTFOUND", "ENODATA", "NOTFOUND", "NODATA"]);

function engineUrl(address: string, port: number): string {
  return isIP(address) === 6 ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}

export class DnsEngineSource extends EventEmitter implements EngineSource {
  private readonly resolver: Resolver;
  private readonly search: SearchConfig;
  private readonly spec: string;
  private current = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;
  private started = false;
  private listened = false;

  constructor(private readonly o: DnsSourceOptions) {
    super();
    // Watching starts once the runner listens: a change seen before would be emitted to no one.
    this.on("newListener", (event: string | symbol) => {
      if (event !== "ready" && event !== "lost") return;
      this.listened = true;
      this.watch();
    });
    this.resolver = new Resolver({ timeout: o.queryTimeoutMs ?? 2000, tries: 2 });
    if (o.servers) this.resolver.setServers(o.servers);
    this.search = readSearchConfig(o.resolvConf);
    this.spec = `${o.target.name}:${o.target.port}`;
  }

  /** The engine URLs the name lists now (sorted); throws when DNS could not answer. */
  async lookup(): Promise<string[]> {
    const { name, port } = this.o.target;
    if (isIP(name)) return [engineUrl(name, port)];
    for (const candidate of candidateNames(name, this.search)) {
      const answers = await Promise.allSettled([
        this.resolver.resolve4(candidate),
        this.resolver.resolve6(candidate),
      ]);
      const addresses: string[] = [];
      for (const a of answers) {
        if (a.status === "fulfilled") addresses.push(...a.value);
        else if (!NOT_FOUND.has((a.reason as { code?: string }).code ?? "")) throw a.reason;
      }
      if (addresses.length > 0) return [...new Set(addresses.map((a) => engineUrl(a, port)))].sort();
    }
    return [];
  }

  /**
   * Resolves until the name lists an engine (vLLM pods appear in a headless Service once ready)
   * and returns those first engines; from then on (once someone listens) the name is watched and
   * changes are emitted as "ready" and "lost". Throws no_endpoint after `waitMs`.
   */
  async start(w: DnsWaitOptions): Promise<string[]> {
    const started = Date.now();
    let problem = "the name lists no address";
    let warned = false;
    for (;;) {
      try {
        const urls = await this.lookup();
        if (urls.length > 0) {
          this.current = new Set(urls);
          this.o.logger?.info({ name: this.spec, engines: urls }, "engines found in DNS");
          this.started = true;
          this.watch();
          return urls;
        }
        problem = "the name lists no address";
      } catch (err) {
        problem = `DNS failed: ${(err as Error).message}`;
      }
      const waited = Date.now() - started;
      if (waited >= w.waitMs) {
        throw new VbatchError(
          "no_endpoint",
          `--endpoints-dns ${this.spec}: no engine after ${Math.round(waited / 1000)} s (--engine-wait): ${problem}; is it a headless Service (clusterIP: None) with ready pods?`,
        );
      }
      if (!warned) {
        warned = true;
        this.o.logger?.warn({ name: this.spec, problem }, "waiting for the name to list an engine");
      }
      await pause(Math.min(this.o.intervalMs ?? 5000, w.waitMs - waited), w.signal);
      if (w.signal?.aborted) {
        throw new VbatchError("interrupted", `interrupted while waiting for --endpoints-dns ${this.spec}`);
      }
    }
  }

  /** Stops watching; nothing is emitted afterwards. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private watch(): void {
    if (this.started && this.listened && !this.timer) this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.refresh(), this.o.intervalMs ?? 5000);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    let urls: string[];
    try {
      urls = await this.lookup();
    } catch (err) {
      // A DNS outage is not a pool change: the engines keep working until they fail themselves.
      if (!this.failing) {
        this.o.logger?.warn({ name: this.spec, err: (err as Error).message }, "DNS failed; keeping the pool");
      }
      this.failing = true;
      this.schedule();
      return;
    }
    this.failing = false;
    if (this.stopped) return;
    const next = new Set(urls);
    for (const url of next) {
      if (!this.current.has(url)) {
        this.o.logger?.info({ name: this.spec, engine: url }, "engine appeared in DNS");
        this.emit("ready", { url });
      }
    }
    for (const url of this.current) {
      if (!next.has(url)) this.emit("lost", { url }, `no longer listed by ${this.spec}`);
    }
    this.current = next;
    this.schedule();
  }
}
