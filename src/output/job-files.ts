// Which output and errors files a journal belongs to. Opening a job's files cuts them back to
// the lengths its journal committed, so a journal reused with another -o would cut an unrelated
// file. The journal records its files (path and identity) and refuses others, touching nothing;
// files moved together with their journal, or renamed in place, are still the job's.
import { statSync } from "node:fs";
import { dirname, relative } from "node:path";
import { VbatchError } from "../errors.js";

/** One of a job's files as the journal knows it. */
export interface FileRecord {
  path: string;
  /** Its identity when it existed; absent when it did not (an errors file not yet needed). */
  dev?: number | undefined;
  ino?: number | undefined;
  /** The job made this file (so it may remove it again; see ResultSink.close). */
  made?: boolean | undefined;
}

export interface JobFilesRecord {
  journal: string;
  output: FileRecord;
  errors: FileRecord;
}

/** The journal's meta key for the record. */
export const FILES_META = "files";

export function parseFilesRecord(text: string | undefined): JobFilesRecord | null {
  if (text === undefined) return null;
  try {
    const r = JSON.parse(text) as JobFilesRecord;
    return typeof r.output?.path === "string" && typeof r.errors?.path === "string" ? r : null;
  } catch {
    return null;
  }
}

/** The file at `path` now, or null when there is none. */
function identity(path: string): { dev: number; ino: number } | null {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? { dev: st.dev, ino: st.ino } : null;
}

/**
 * Whether `path` is the job's file `was`: the same path; the same place relative to the journal,
 * which moved with it (a renamed or copied job directory); or the very same file by another name.
 */
function isJobFile(path: string, was: FileRecord, journalNow: string, journalWas: string): boolean {
  if (path === was.path) return true;
  if (relative(dirname(journalNow), path) === relative(dirname(journalWas), was.path)) return true;
  const now = identity(path);
  return now !== null && was.ino !== undefined && now.ino === was.ino && now.dev === was.dev;
}

/**
 * Refuses, before anything is touched, output or errors paths that are not the files the journal
 * belongs to. A journal of an earlier version has no record: its files are recorded on first use.
 */
export function checkJobFiles(
  record: JobFilesRecord | null,
  paths: { journal: string; output: string; errors: string },
): void {
  if (!record) return;
  const wrong = (
    [
      ["-o", paths.output, record.output],
      ["--errors", paths.errors, record.errors],
    ] as const
  ).filter(([, path, was]) => !isJobFile(path, was, paths.journal, record.journal));
  if (wrong.length === 0) return;
  const given = wrong.map(([flag, path]) => `${flag} ${path}`).join(" and ");
  throw new VbatchError(
    "usage",
    `the journal ${paths.journal} belongs to the job writing ${record.output.path} (errors ${record.errors.path}), not ${given}: opening them would cut them to that job's committed length. Nothing was changed. To go on with that job, pass -o ${record.output.path}${wrong.some(([f]) => f === "--errors") ? ` --errors ${record.errors.path}` : ""}; for a new job, pass another --journal (or none). If you moved the job's files, keep them together (journal, output and errors in the same places relative to each other), or move them back.`,
  );
}

/** The record of a job's files as they are open now. */
export function filesRecord(
  journal: string,
  output: { path: string; made: boolean },
  errors: { path: string; made: boolean },
): JobFilesRecord {
  const rec = (f: { path: string; made: boolean }): FileRecord => ({
    path: f.path,
    ...identity(f.path),
    made: f.made,
  });
  return { journal, output: rec(output), errors: rec(errors) };
}

/** Whether the file at `path` is still the one `was` records (same dev and inode). */
export function sameFile(path: string, was: FileRecord | undefined): boolean {
  const now = identity(path);
  return was?.ino !== undefined && now !== null && now.ino === was.ino && now.dev === was.dev;
}
