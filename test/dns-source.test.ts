// --endpoints-dns against a real DNS server started here (test/helpers/dns-server.ts) whose records
// change mid-test: engines that appear join the pool, engines that disappear leave it, a DNS outage
// changes nothing, and a job keeps going across the changes with every row answered once.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runBatch } from "../src/index.js";
import { candidateNames, parseDnsTarget, readSearchConfig } from "../src/pool/dns-names.js";
import { DnsEngineSource, type DnsSourceOptions } from "../src/pool/dns-source.js";
import { runCli } from "./helpers/cli.js";
import { type DnsServer, startDnsServer } from "./helpers/dns-server.js";
import { readJsonl, tempDir, writeChatInput } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";
import { until } from "./helpers/wait.js";

const dir = tempDir();
const noSearch = join(dir, "resolv-none.conf");
writeFileSync(noSearch, "nameserver 127.0.0.1\n");

/** Waits for a condition, checking every 10 ms, for at most 10 s. */
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function dnsServer(): Promise<DnsServer> {
  const s = await startDnsServer();
  cleanups.push(() => s.close());
  return s;
}

/** Waits until a listening watcher of another name has made `rounds` rounds: a clock made of queries. */
async function rounds(server: DnsServer, rounds: number): Promise<void> {
  server.set("clock", ["10.9.9.9"]);
  const { source, listen } = watcher(server, "clock");
  await source.start({ waitMs: 5000 });
  listen();
  const asked = () => server.queries.filter((q) => q === "clock").length;
  const from = asked();
  await until(`${rounds} rounds of the clock`, () => asked() >= from + 2 * rounds); // A and AAAA
  source.stop();
}

/** A watcher asking `server`, re-resolving every 20 ms, with its events in `events`. */
function watcher(server: DnsServer, target: string, o: Partial<DnsSourceOptions> = {}) {
  const source = new DnsEngineSource({
    target: parseDnsTarget(target),
    servers: [server.address],
    resolvConf: noSearch,
    intervalMs: 20,
    queryTimeoutMs: 500,
    ...o,
  });
  cleanups.push(() => source.stop());
  const events: string[] = [];
  const listen = () => {
    source.on("ready", (e) => events.push(`ready ${e.url}`));
    source.on("lost", (e, reason) => events.push(`lost ${e.url} (${reason})`));
  };
  return { source, events, listen };
}

describe("parseDnsTarget", () => {
  it("takes name[:port], IPv4 and IPv6 addresses, port 8000 by default", () => {
    expect(parseDnsTarget("vllm")).toEqual({ name: "vllm", port: 8000 });
    expect(parseDnsTarget("vllm.ml.svc.cluster.local:8001")).toEqual({
      name: "vllm.ml.svc.cluster.local",
      port: 8001,
    });
    expect(parseDnsTarget("10.1.2.3:9000")).toEqual({ name: "10.1.2.3", port: 9000 });
    expect(parseDnsTarget("[fd00::5]:9000")).toEqual({ name: "fd00::5", port: 9000 });
    expect(parseDnsTarget("fd00::5")).toEqual({ name: "fd00::5", port: 8000 });
  });

  it("refuses anything else with a usage error naming the flag", () => {
    for (const bad of [
      "",
      "http://vllm:8000",
      "vllm:",
      "vllm:0",
      "vllm:70000",
      "vl lm",
      "a..b",
      "[vllm]:80",
    ]) {
      expect(() => parseDnsTarget(bad), bad).toThrow(/^--endpoints-dns .*expected name\[:port\]/);
    }
  });
});

describe("search list", () => {
  it("reads search and ndots from resolv.conf as libc does (the last search/domain line wins)", () => {
    const conf = join(dir, "resolv-k8s.conf");
    writeFileSync(
      conf,
      "domain old.example\nsearch ml.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1\n",
    );
    expect(readSearchConfig(conf)).toEqual({
      search: ["ml.svc.cluster.local", "svc.cluster.local", "cluster.local"],
      ndots: 5,
    });
    expect(readSearchConfig(join(dir, "missing.conf"))).toEqual({ search: [], ndots: 1 });
  });

  it("tries the search list first for short names, the name first for long ones, only the name when absolute", () => {
    const c = { search: ["ml.svc.cluster.local", "svc.cluster.local"], ndots: 2 };
    expect(candidateNames("vllm", c)).toEqual([
      "vllm.ml.svc.cluster.local",
      "vllm.svc.cluster.local",
      "vllm",
    ]);
    expect(candidateNames("vllm.ml.svc", c)).toEqual([
      "vllm.ml.svc",
      "vllm.ml.svc.ml.svc.cluster.local",
      "vllm.ml.svc.svc.cluster.local",
    ]);
    expect(candidateNames("vllm.ml.svc.cluster.local.", c)).toEqual(["vllm.ml.svc.cluster.local"]);
  });

  it("finds a short name through the search list, as in a pod", async () => {
    const server = await dnsServer();
    server.set("vllm.ml.svc.cluster.local", ["10.0.0.7"]);
    const conf = join(dir, "resolv-pod.conf");
    writeFileSync(conf, "search ml.svc.cluster.local svc.cluster.local\noptions ndots:5\n");
    const { source } = watcher(server, "vllm", { resolvConf: conf });
    expect(await source.lookup()).toEqual(["http://10.0.0.7:8000"]);
    expect(server.queries).toContain("vllm.ml.svc.cluster.local");
    expect(server.queries).not.toContain("vllm"); // found before the bare name was needed
  });
});

describe("DnsEngineSource", () => {
  it("gives every A and AAAA record as an engine, IPv6 in brackets", async () => {
    const server = await dnsServer();
    server.set("vllm", ["10.0.0.2", "10.0.0.1", "fd00::1"]);
    const { source } = watcher(server, "vllm:8001");
    expect(await source.lookup()).toEqual([
      "http://10.0.0.1:8001",
      "http://10.0.0.2:8001",
      "http://[fd00::1]:8001",
    ]);
  });

  it("an IP address is its own answer, without DNS", async () => {
    const server = await dnsServer();
    const { source } = watcher(server, "127.0.0.9:8123");
    expect(await source.lookup()).toEqual(["http://127.0.0.9:8123"]);
    expect(server.queries).toEqual([]);
  });

  it("sees engines join and leave as the records change, and nothing while DNS is failing", async () => {
    const server = await dnsServer();
    server.set("vllm", ["10.0.0.1"]);
    const { source, events, listen } = watcher(server, "vllm");
    expect(await source.start({ waitMs: 5000 })).toEqual(["http://10.0.0.1:8000"]);
    listen();

    server.set("vllm", ["10.0.0.1", "10.0.0.2", "fd00::2"]); // two pods became ready
    await until("two engines to join", () => events.length === 2);
    expect(events).toEqual(["ready http://10.0.0.2:8000", "ready http://[fd00::2]:8000"]);

    server.set("vllm", ["10.0.0.2", "fd00::2"]); // a pod went away
    await until("one engine to leave", () => events.length === 3);
    expect(events[2]).toBe("lost http://10.0.0.1:8000 (no longer listed by vllm:8000)");

    // A DNS outage is no change to the pool: several rounds of SERVFAIL emit nothing.
    server.failing(true);
    const asked = server.queries.length;
    await until("three failed rounds", () => server.queries.length >= asked + 6);
    expect(events).toHaveLength(3);

    server.failing(false);
    server.remove("vllm"); // NXDOMAIN: the Service has no ready pod left
    await until("both engines to leave", () => events.length === 5);
    expect(events.slice(3).sort()).toEqual([
      "lost http://10.0.0.2:8000 (no longer listed by vllm:8000)",
      "lost http://[fd00::2]:8000 (no longer listed by vllm:8000)",
    ]);

    server.set("vllm", ["10.0.0.1"]); // and one comes back
    await until("an engine to come back", () => events.length === 6);
    expect(events[5]).toBe("ready http://10.0.0.1:8000");

    source.stop();
    server.set("vllm", ["10.0.0.3"]);
    await rounds(server, 5);
    expect(events).toHaveLength(6);
  });

  it("watches only once someone listens, so no change is emitted to no one", async () => {
    const server = await dnsServer();
    server.set("vllm", ["10.0.0.1"]);
    const { source, events, listen } = watcher(server, "vllm");
    await source.start({ waitMs: 5000 });
    const asked = server.queries.filter((q) => q === "vllm").length;
    server.set("vllm", ["10.0.0.1", "10.0.0.2"]);
    await rounds(server, 5);
    expect(server.queries.filter((q) => q === "vllm").length).toBe(asked);
    listen();
    await until("the new engine", () => events.length === 1);
    expect(events).toEqual(["ready http://10.0.0.2:8000"]);
  });

  it("start waits for the first address (pods not ready yet), then returns it", async () => {
    const server = await dnsServer();
    const { source } = watcher(server, "vllm");
    const started = source.start({ waitMs: 10_000 });
    await until("a few empty rounds", () => server.queries.length >= 6);
    server.set("vllm", ["10.0.0.4"]);
    expect(await started).toEqual(["http://10.0.0.4:8000"]);
  });

  it("start gives up after the wait with no_endpoint naming the flag, and stops on abort", async () => {
    const server = await dnsServer();
    const { source } = watcher(server, "vllm");
    await expect(source.start({ waitMs: 0 })).rejects.toMatchObject({
      code: "no_endpoint",
      message: expect.stringMatching(
        /^--endpoints-dns vllm:8000: no engine .*--engine-wait.*headless Service/,
      ),
    });
    server.failing(true);
    const { source: failing } = watcher(server, "vllm");
    await expect(failing.start({ waitMs: 0 })).rejects.toMatchObject({
      message: expect.stringContaining("DNS failed"),
    });
    const controller = new AbortController();
    const { source: waiting } = watcher(server, "vllm");
    const started = waiting.start({ waitMs: 60_000, signal: controller.signal });
    controller.abort();
    await expect(started).rejects.toMatchObject({ code: "interrupted" });
  });
});

describe("a job over --endpoints-dns", () => {
  const sim = useSims({ prefillMs: 0, stepMs: 1, outputTokens: 8, maxNumSeqs: 8 });

  it("uses an engine that appears mid-run and stops using one that leaves; every row once", async () => {
    // Two "pods" on one port at two loopback addresses, as a headless Service lists them.
    const a = await sim({ host: "127.0.0.2" });
    const b = await sim({ host: "127.0.0.3", port: a.port });
    const server = await dnsServer();
    server.set("vllm", ["127.0.0.2"]);
    const source = new DnsEngineSource({
      target: { name: "vllm", port: a.port },
      servers: [server.address],
      resolvConf: noSearch,
      intervalMs: 20,
    });
    cleanups.push(() => source.stop());
    const input = writeChatInput(join(dir, "dns-job.jsonl"), 1500);
    const output = join(dir, "dns-job.out.jsonl");
    const endpoints = await source.start({ waitMs: 5000 });
    expect(endpoints).toEqual([`http://127.0.0.2:${a.port}`]);
    const job = runBatch({ input, output, endpoints, engineSource: source, concurrency: 4, fsync: false });

    await until("engine A to answer some rows", () => a.stats().completed >= 50);
    server.set("vllm", ["127.0.0.2", "127.0.0.3"]);
    await until("engine B, found in DNS, to get rows", () => b.stats().received >= 20);

    // A's pod is deleted: Kubernetes takes it out of the Service and stops it at the same time.
    const lost: string[] = [];
    source.on("lost", (e) => lost.push(e.url));
    server.set("vllm", ["127.0.0.3"]);
    const stopping = a.close();
    await until("the watcher to see A leave", () => lost.includes(`http://127.0.0.2:${a.port}`));
    await stopping;
    const bBefore = b.stats().completed;

    const summary = await job;
    expect(summary.succeeded).toBe(1500);
    expect(summary.failed).toBe(0);
    const ids = readJsonl(output).map((l) => l.custom_id);
    expect(new Set(ids).size).toBe(1500);
    expect(ids).toHaveLength(1500);
    expect(lost).toEqual([`http://127.0.0.2:${a.port}`]);
    expect(b.stats().completed).toBeGreaterThan(bBefore); // the rest of the job ran on B
    expect(a.stats().completed + b.stats().completed).toBeGreaterThanOrEqual(1500);
  });
});

describe("vbatch run --endpoints-dns", () => {
  const sim = useSims({ prefillMs: 0, stepMs: 0 });

  it("runs a job on the engines the name gives (an address resolves to itself)", async () => {
    const s = await sim();
    const input = writeChatInput(join(dir, "cli-dns.jsonl"), 40);
    const out = join(dir, "cli-dns.out.jsonl");
    const r = await runCli([
      "run",
      input,
      "-o",
      out,
      "--endpoints-dns",
      `127.0.0.1:${s.port}`,
      "--no-progress",
    ]);
    expect(r.stderr).toContain(`resolving --endpoints-dns 127.0.0.1:${s.port}`);
    expect(r.code).toBe(0);
    expect(readJsonl(out)).toHaveLength(40);
    expect(s.stats().completed).toBe(40);
  });

  it("exits 2 for a bad value or with --launch, naming the flag", async () => {
    const input = writeChatInput(join(dir, "cli-dns-bad.jsonl"), 2);
    const out = join(dir, "cli-dns-bad.out.jsonl");
    const bad = await runCli(["run", input, "-o", out, "--endpoints-dns", "vllm:99999"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^vbatch: error: --endpoints-dns "vllm:99999": expected name\[:port\]/m);
    const both = await runCli(["run", input, "-o", out, "--endpoints-dns", "vllm", "--launch", "sim"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--endpoints-dns and --launch sim do not go together");
  });

  it("exits 1 naming the flag when the name never lists an engine within --engine-wait", async () => {
    const input = writeChatInput(join(dir, "cli-dns-none.jsonl"), 2);
    const r = await runCli([
      "run",
      input,
      "-o",
      join(dir, "cli-dns-none.out.jsonl"),
      "--endpoints-dns",
      "no-such-service.invalid",
      "--engine-wait",
      "0",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vbatch: error: --endpoints-dns no-such-service\.invalid:8000: no engine after/);
  });
});
