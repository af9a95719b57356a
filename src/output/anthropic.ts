// Output for Anthropic Message Batch input: each OpenAI-shaped line becomes Anthropic's result
// line ({custom_id, result: {type: succeeded|errored|canceled|expired, ...}}).
import { resultFor } from "../anthropic/reply.js";

export function toAnthropicLine(openaiLine: string): string {
  return `${JSON.stringify(resultFor(JSON.parse(openaiLine)))}\n`;
}
