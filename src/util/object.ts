// The one "is this a JSON object" test, shared by every module that reads untrusted JSON.
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
