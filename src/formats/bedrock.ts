// AWS Bedrock batch inference records: {recordId, modelInput}, translated by the body's model
// family; results as {recordId, modelInput, modelOutput | error}, modelInput repeated as written.
import { memberSpan } from "../input/json-scan.js";
import { isPlainObject } from "../util/object.js";
import { BedrockError, type BedrockShape, bedrockToOpenAI } from "./bedrock/request.js";
import { bedrockFailure, bedrockRecord } from "./bedrock/response.js";
import { translatedRow } from "./translated.js";
import type { BatchFormat } from "./types.js";

export const bedrockFormat: BatchFormat = {
  name: "bedrock",
  label: "Bedrock",
  idField: "recordId",
  matches: (v) => v.modelInput !== undefined,
  parse: (value, text, customId) =>
    translatedRow({
      format: "bedrock",
      member: "modelInput",
      text,
      customId,
      translate: () => {
        const { shape, url, body } = bedrockToOpenAI(value.modelInput);
        const span = memberSpan(text, "modelInput") as [number, number];
        return { url, body, variant: shape, echo: text.slice(span[0], span[1]) };
      },
      refusal: (err) => (err instanceof BedrockError ? `modelInput ${err.message}` : null),
    }),
  outputLine: (line, shape) =>
    bedrockRecord(JSON.parse(line), shape?.variant as BedrockShape | undefined, shape?.echo),
  // A refused record still repeats its modelInput as written, when the line is JSON that has one.
  invalidShape: (text) => {
    let echo: string | undefined;
    try {
      const v: unknown = JSON.parse(text);
      if (isPlainObject(v) && v.modelInput !== undefined) {
        const span = memberSpan(text, "modelInput");
        if (span) echo = text.slice(span[0], span[1]);
      }
    } catch {
      // Not JSON: nothing can be repeated as written.
    }
    return { format: "bedrock", echo };
  },
  failure: bedrockFailure,
};
