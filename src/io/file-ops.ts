// The seam between a job's durable state and the disk: every write, fsync and truncate of the
// output files and every journal commit goes through one FileOps, so tests can fail exactly one
// of them (src/io/faults.ts) and prove that a failed commit leaves disk and journal as they were.
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, statSync, writeSync } from "node:fs";

/** Enough of a stat to tell a file's length and whether a path still names the same file. */
export interface FileId {
  size: number;
  dev: number;
  ino: number;
}

export interface FileOps {
  open(path: string, flags: string): number;
  write(fd: number, buf: Buffer, offset: number, length: number, position: number): number;
  fsync(fd: number): void;
  truncate(fd: number, length: number): void;
  fstat(fd: number): FileId;
  /** The file at `path` now, or null when there is none. */
  stat(path: string): FileId | null;
  close(fd: number): void;
  /** Called inside a journal commit's transaction, just before COMMIT: a throw rolls it back. */
  commit(): void;
  /** Called once a journal commit has returned. */
  committed(): void;
}

export const nodeFileOps: FileOps = {
  open: (path, flags) => openSync(path, flags),
  write: (fd, buf, offset, length, position) => writeSync(fd, buf, offset, length, position),
  fsync: (fd) => fsyncSync(fd),
  truncate: (fd, length) => ftruncateSync(fd, length),
  fstat: (fd) => fstatSync(fd),
  stat: (path) => statSync(path, { throwIfNoEntry: false }) ?? null,
  close: (fd) => closeSync(fd),
  commit: () => {},
  committed: () => {},
};
