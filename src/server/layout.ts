// Where things live under --data. Every path is built from a validated server-generated id and a
// fixed name, never from anything a client typed.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { IdKind } from "./ids.js";
import { isId } from "./ids.js";

export interface BatchPaths {
  dir: string;
  /** Anthropic batches: the translated requests as an OpenAI-batch file. */
  source: string;
  /** The validated (model-mapped) input that runBatch reads. */
  requests: string;
  journal: string;
  output: string;
  errors: string;
}

export class DataLayout {
  readonly db: string;
  readonly filesDir: string;
  readonly batchesDir: string;

  constructor(readonly root: string) {
    this.db = join(root, "vbatch-serve.db");
    this.filesDir = join(root, "files");
    this.batchesDir = join(root, "batches");
    for (const d of [root, this.filesDir, this.batchesDir]) mkdirSync(d, { recursive: true });
  }

  file(id: string): string {
    return join(this.filesDir, checked("file", id));
  }

  /** A temporary upload name in the files dir (same filesystem, so it can be renamed into place). */
  upload(token: string): string {
    return join(this.filesDir, `.upload-${token}`);
  }

  /**
   * OpenAI batches write their output and errors straight into files/ under ids allocated at
   * creation (listed only once the batch ends); Anthropic batches keep them in their own dir.
   */
  batch(id: string, files?: { output: string; errors: string }): BatchPaths {
    const kind: IdKind = id.startsWith("msgbatch_") ? "msgbatch" : "batch";
    const dir = join(this.batchesDir, checked(kind, id));
    return {
      dir,
      source: join(dir, "source.jsonl"),
      requests: join(dir, "requests.jsonl"),
      journal: join(dir, "journal.db"),
      output: files ? this.file(files.output) : join(dir, "output.jsonl"),
      errors: files ? this.file(files.errors) : join(dir, "errors.jsonl"),
    };
  }
}

function checked(kind: IdKind, id: string): string {
  if (!isId(kind, id)) throw new Error(`not a ${kind} id: ${JSON.stringify(id)}`);
  return id;
}
