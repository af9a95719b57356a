// After `tsc`: the CLI entry must be executable (tsc writes files without the execute bit, so a
// rebuilt dist/ would make `npx vbatch` fail with "Permission denied").
import { chmodSync } from "node:fs";

chmodSync(new URL("../dist/cli/bin.js", import.meta.url), 0o755);
