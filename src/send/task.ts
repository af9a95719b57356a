// One row on its way to an engine: what to send and how many times it has been tried.
import type { OutputShape } from "../formats/types.js";
import type { BatchUrl } from "../input/urls.js";

export interface RowTask {
  line: number;
  customId: string;
  /** The id of the row's output line (see lineId). */
  lineId: string;
  url: BatchUrl;
  /** Request body as JSON text: the row's own bytes, with a default model or priority put in. */
  body: string;
  attempts: number;
  /** Rows of a format other than OpenAI's get their output lines in that format's own shape. */
  shape?: OutputShape;
  /** Set once the row lost an attempt to an engine that went down (later ones are free). */
  failedOver?: boolean;
  /** With --validate-json: the JSON the reply must be (a schema, or `true` for any JSON). */
  schema?: Record<string, unknown> | true;
  /** Replies already refused by --validate-json. */
  jsonRetries?: number;
  /** The line as validated, for a reader asked to keep it (a provider needs Anthropic's own params). */
  text?: string;
  /** The row's prompt prefix key, when it has one (see input/prefix-key.ts): routes it by affinity. */
  pkey?: number;
  /** Set for single-input embedding rows that may share a request with others. */
  coalesce?: { input: string; span: [number, number] };
}
