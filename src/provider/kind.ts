// What differs between the providers for the batch loop: the API, how a row is written into a
// chunk, and how an answer's id leads back to its row. OpenAI rows keep their custom_id; an
// Anthropic row goes under a mapped one (anthropic/result-line.ts) and its answers are written as
// Anthropic's own result lines.
import { VbatchError } from "../errors.js";
import type { FormatName } from "../formats/types.js";
import type { Journal } from "../journal/journal.js";
import { mappedId } from "./anthropic/result-line.js";
import type { ProviderApi } from "./api.js";
import {
  anthropicRequestLine,
  chatAsAnthropicLine,
  openaiRequestLine,
  type RequestLine,
} from "./chunk-file.js";
import type { ProviderOptions } from "./options.js";

export interface ProviderKind {
  api: ProviderApi;
  /** How a row of chunk `chunk` is written into its file. */
  requestLine: (chunk: number) => RequestLine;
  /** The row an answer's id stands for. */
  lineOf: (id: string) => number | undefined;
  /** Answers are written as the provider's own lines (Anthropic input to Anthropic). */
  native: boolean;
  /** An answer's body as the job's format writes it (Anthropic's message as a chat completion). */
  bodyOf?: ((body: string) => string) | undefined;
  /** The chunk file is the request itself (no upload): kept until the batch id is recorded. */
  inline: boolean;
}

/** Opens the provider's API (its SDK is loaded only for a provider job). */
export async function providerKind(
  o: ProviderOptions,
  job: {
    jobId: string;
    model: string | undefined;
    journal?: Journal | undefined;
    format?: FormatName | undefined;
  },
): Promise<ProviderKind> {
  if (o.name === "openai") {
    const { OpenAIBatches } = await import("./openai/api.js");
    return {
      api: new OpenAIBatches(o),
      requestLine: () => openaiRequestLine,
      lineOf: (id) => job.journal?.rowOf(id)?.line,
      native: false,
      inline: false,
    };
  }
  if (o.name === "anthropic") {
    const { AnthropicBatches } = await import("./anthropic/api.js");
    const { lineOfMapped } = await import("./anthropic/result-line.js");
    const { messageToChat } = await import("./anthropic/from-chat.js");
    const chat = job.format === "openai";
    const id = (chunk: number) => (line: number) => mappedId(job.jobId, chunk, line);
    return {
      api: new AnthropicBatches(o),
      requestLine: (chunk) =>
        chat ? chatAsAnthropicLine(id(chunk)) : anthropicRequestLine(id(chunk), job.model),
      lineOf: (line) => lineOfMapped(job.jobId, line),
      native: !chat,
      bodyOf: chat ? (body) => JSON.stringify(messageToChat(JSON.parse(body))) : undefined,
      inline: true,
    };
  }
  throw new VbatchError("usage", `--provider ${String(o.name)} is not a provider vbatch sends to`);
}
