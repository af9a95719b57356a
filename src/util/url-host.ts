/** `host` as written in a URL: an IPv6 address gets its brackets ("::1" -> "[::1]"). */
export function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
