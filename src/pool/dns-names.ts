// What `--endpoints-dns name[:port]` asks DNS. node's Resolver (c-ares) sends a name as it is,
// without resolv.conf's search list, so "vllm" in a pod would never find
// vllm.<namespace>.svc.cluster.local; the search list and ndots are applied here, as libc does.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { VbatchError } from "../errors.js";

export interface DnsTarget {
  /** A DNS name (a Kubernetes headless Service) or an IP address. */
  name: string;
  /** The engines' port. */
  port: number;
}

/** vLLM's default port. */
export const DEFAULT_ENGINE_PORT = 8000;

const usage = (spec: string) =>
  new VbatchError(
    "usage",
    `--endpoints-dns ${JSON.stringify(spec)}: expected name[:port], e.g. vllm:8000 or vllm.default.svc.cluster.local`,
  );

/** "vllm", "vllm:8001", "10.0.0.5:8000", "[fd00::5]:8000" or "fd00::5". */
export function parseDnsTarget(spec: string): DnsTarget {
  const s = spec.trim();
  let name = s;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracketed) {
    name = bracketed[1] ?? "";
    port = bracketed[2];
    if (isIP(name) !== 6) throw usage(spec);
  } else if (isIP(s) !== 6) {
    const colon = s.lastIndexOf(":");
    if (colon >= 0) {
      name = s.slice(0, colon);
      port = s.slice(colon + 1);
      if (!/^\d+$/.test(port)) throw usage(spec);
    }
    if (!/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/.test(name) || name.includes("..")) throw usage(spec);
  }
  const p = port === undefined ? DEFAULT_ENGINE_PORT : Number(port);
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw usage(spec);
  return { name, port: p };
}

export interface SearchConfig {
  /** Domains tried after (or before) the name itself. */
  search: string[];
  /** A name with at least this many dots is tried as it is first. */
  ndots: number;
}

/** The search list and ndots of a resolv.conf; none (ndots 1) when the file cannot be read. */
export function readSearchConfig(path = "/etc/resolv.conf"): SearchConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return { search: [], ndots: 1 };
  }
  let search: string[] = [];
  let ndots = 1;
  for (const raw of text.split("\n")) {
    const [key, ...values] = raw
      .replace(/[#;].*/, "")
      .trim()
      .split(/\s+/);
    // As in resolv.conf(5): "domain" and "search" replace each other; the last one wins.
    if (key === "search" || key === "domain") search = values.filter((v) => v.length > 0);
    if (key === "options") {
      for (const v of values) {
        const m = /^ndots:(\d+)$/.exec(v);
        if (m) ndots = Math.min(15, Number(m[1]));
      }
    }
  }
  return { search: search.map((d) => d.replace(/\.$/, "")).filter((d) => d.length > 0), ndots };
}

/** The names to ask, in order: libc's rules for the search list (a trailing dot means absolute). */
export function candidateNames(name: string, c: SearchConfig): string[] {
  if (name.endsWith(".")) return [name.slice(0, -1)];
  const expanded = c.search.map((d) => `${name}.${d}`);
  const dots = name.split(".").length - 1;
  return dots >= c.ndots ? [name, ...expanded] : [...expanded, name];
}
