// AWS Bedrock batch inference records: {recordId, modelInput}, translated by the body's model
// family; results as {recordId, modelInput, modelOutput | error}, modelInput repeated as written.
import { memberSpan } from "../input/json-scan.js";
import { BedrockError, type BedrockShape, bedrockToOpenAI } from "./bedrock/request.js";
import { bedrockRecord } from "./bedrock/response.js";
import { refuseLossyNumbers } from "./lossless.js";
import type { BatchFormat, ParseResult } from "./types.js";

export const bedrockFormat: BatchFormat = {
  name: "bedrock",
  label: "Bedrock",
  idField: "recordId",
  matches: (v) => v.modelInput !== undefined,
  parse(value, text, customId): ParseResult {
    const lossy = refuseLossyNumbers(text, "modelInput", customId);
    if (lossy) return lossy;
    try {
      const { shape, url, body } = bedrockToOpenAI(value.modelInput);
      const span = memberSpan(text, "modelInput") as [number, number];
      return {
        ok: true,
        row: {
          customId,
          url,
          body,
          bodyText: JSON.stringify(body),
          format: "bedrock",
          shape: { format: "bedrock", variant: shape, echo: text.slice(span[0], span[1]) },
        },
      };
    } catch (err) {
      if (err instanceof BedrockError) return { ok: false, message: `modelInput ${err.message}`, customId };
      throw err;
    }
  },
  outputLine: (line, shape) =>
    bedrockRecord(JSON.parse(line), shape?.variant as BedrockShape | undefined, shape?.echo),
};
