// The journal's tables. One SQLite file per job: the rows of the input with their state and
// fingerprint, the lines that failed validation, the byte lengths up to which the output files
// are committed, who is running the job now, and (for a job sent to a provider's batch API) each
// chunk's file and batch ids and which chunk holds each row. CREATE ... IF NOT EXISTS is the
// migration: a journal made before a table existed gains it, empty, when it is next opened.
import { OWNER_SCHEMA } from "./owner.js";

export const JOURNAL_VERSION = "3";

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rows (
  line              INTEGER PRIMARY KEY,   -- physical line number in the input
  custom_id         TEXT NOT NULL UNIQUE,
  state             INTEGER NOT NULL DEFAULT 0, -- 0 pending, 1 succeeded, 2 failed
  status            INTEGER,               -- HTTP status of the final answer, if any
  prompt_tokens     INTEGER,
  completion_tokens INTEGER,
  dkey              TEXT,                  -- request identity, for rows that may be deduplicated
  dup_of            INTEGER,               -- the line whose answer this row shares (never sent itself)
  followers         INTEGER NOT NULL DEFAULT 0, -- rows that share this row's answer
  fp                INTEGER,               -- fingerprint of the line's bytes as validated
  pkey              INTEGER,               -- prefix key of the prompt (0: none; NULL: older journal)
  off               INTEGER,               -- byte offset of the line in the (decompressed) input
  len               INTEGER,               -- its length in bytes
  ptok              INTEGER,               -- prompt tokens, estimated (4 characters a token)
  maxt              INTEGER,               -- max_tokens asked for, if any
  lord              INTEGER                -- place in the longest-first order (ascending)
);
CREATE INDEX IF NOT EXISTS rows_dkey ON rows (dkey) WHERE dkey IS NOT NULL;
CREATE INDEX IF NOT EXISTS rows_dup_of ON rows (dup_of) WHERE dup_of IS NOT NULL;
CREATE TABLE IF NOT EXISTS invalid (
  line      INTEGER PRIMARY KEY,
  custom_id TEXT,
  message   TEXT NOT NULL,
  written   INTEGER NOT NULL DEFAULT 0     -- 1 once its line is committed to the errors file
);
${OWNER_SCHEMA}
CREATE TABLE IF NOT EXISTS provider_chunks (
  chunk       INTEGER PRIMARY KEY,         -- 1, 2, ... in the order the chunks were planned
  provider    TEXT NOT NULL,               -- "openai" or "anthropic"
  url         TEXT NOT NULL,               -- the endpoint of every row in it
  state       TEXT NOT NULL,               -- planned, uploaded, created, done (see batch-records.ts)
  rows        INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  planned_at  INTEGER NOT NULL,            -- ms since the epoch: a batch made after it may be this chunk's
  file_id     TEXT,                        -- the uploaded input file, recorded before it is used
  batch_id    TEXT,                        -- the batch, recorded before it is polled
  status      TEXT,                        -- the provider's last status
  counts      TEXT,                        -- the provider's request counts, as JSON
  output_file TEXT,
  error_file  TEXT,
  ended_at    INTEGER,
  prompt_tokens     INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  note        TEXT                         -- why a chunk ended without its answers (failed, cancelled)
);
CREATE TABLE IF NOT EXISTS provider_rows (
  line     INTEGER PRIMARY KEY,            -- a row of the rows table
  chunk    INTEGER,                        -- the chunk holding it now (null: not submitted now)
  attempts INTEGER NOT NULL DEFAULT 0      -- submissions that counted against --max-attempts
);
CREATE INDEX IF NOT EXISTS provider_rows_chunk ON provider_rows (chunk) WHERE chunk IS NOT NULL;`;

export const RowState = { pending: 0, succeeded: 1, failed: 2 } as const;
export type RowStateValue = (typeof RowState)[keyof typeof RowState];
