// The shape every endpoint the engine runs shares (vLLM's engine/serving.py plays this part for
// its serving classes): size the request's work or refuse it, then answer once the engine is done.
import type { ErrorInfo } from "../errors.js";
import type { SimConfig } from "../options.js";
import type { Work } from "../requests.js";

export type Body = Record<string, unknown>;

/** What the engine does with one kind of request, and what it answers once done. */
export interface RequestKind {
  /** Sizes the request's work, or the error it is refused with. */
  work(cfg: SimConfig, body: Body, raw: string): Work | ErrorInfo;
  /** The 200 answer's body. */
  reply(cfg: SimConfig, id: string, work: Work, created: number): string;
}
