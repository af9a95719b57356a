// The package version, read once from package.json so `--version` cannot drift.
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};
export const VERSION = pkg.version;
