// A tiny authoritative DNS server on 127.0.0.1 (UDP, A and AAAA only) whose records a test
// changes while vbatch watches them: how --endpoints-dns is tested without a real cluster DNS.
import { createSocket, type RemoteInfo } from "node:dgram";
import { isIPv6 } from "node:net";

export interface DnsServer {
  /** "127.0.0.1:PORT", for Resolver.setServers. */
  address: string;
  /** Sets a name's addresses (IPv4 and IPv6 mixed); an empty list answers with no records. */
  set(name: string, addresses: string[]): void;
  /** Removes a name: queries for it get NXDOMAIN. */
  remove(name: string): void;
  /** Answer every query with SERVFAIL (a broken DNS server) until set back to false. */
  failing(on: boolean): void;
  /** Every name asked about, in order (lower case). */
  queries: string[];
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

function ipv6Bytes(addr: string): Buffer {
  const [head = "", tail] = addr.split("::");
  const parts = (s: string) => (s === "" ? [] : s.split(":"));
  const h = parts(head);
  const t = tail === undefined ? [] : parts(tail);
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return out;
}

function record(type: number, addr: string): Buffer {
  const data = type === TYPE_A ? Buffer.from(addr.split(".").map(Number)) : ipv6Bytes(addr);
  const rr = Buffer.alloc(12);
  rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question's name
  rr.writeUInt16BE(type, 2);
  rr.writeUInt16BE(1, 4); // class IN
  rr.writeUInt32BE(0, 6); // TTL 0: nothing may be cached between re-resolves
  rr.writeUInt16BE(data.length, 10);
  return Buffer.concat([rr, data]);
}

/** The question's name (lower case), its type, and where the question ends. */
function parseQuestion(msg: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let at = 12;
  for (let len = msg[at] ?? 0; len > 0; len = msg[at] ?? 0) {
    labels.push(msg.subarray(at + 1, at + 1 + len).toString("latin1"));
    at += 1 + len;
  }
  at += 1;
  return { name: labels.join(".").toLowerCase(), type: msg.readUInt16BE(at), end: at + 4 };
}

export async function startDnsServer(): Promise<DnsServer> {
  const zone = new Map<string, string[]>();
  const queries: string[] = [];
  let servfail = false;
  const socket = createSocket("udp4");
  socket.on("message", (msg: Buffer, from: RemoteInfo) => {
    const q = parseQuestion(msg);
    queries.push(q.name);
    const addrs = zone.get(q.name);
    const answers =
      addrs && !servfail
        ? addrs
            .filter((a) => (q.type === TYPE_AAAA ? isIPv6(a) : q.type === TYPE_A && !isIPv6(a)))
            .map((a) => record(q.type, a))
        : [];
    const rcode = servfail ? 2 : addrs === undefined ? 3 : 0;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0); // the query's id
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | rcode, 2); // QR, AA, RD echoed
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    socket.send(Buffer.concat([header, msg.subarray(12, q.end), ...answers]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    set: (name, addresses) => zone.set(name.toLowerCase(), addresses),
    remove: (name) => zone.delete(name.toLowerCase()),
    failing: (on) => {
      servfail = on;
    },
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
