// `vbatch validate`: the run's validation on its own, with a summary of the input. Problems are
// listed with line numbers and end the command with exit code 2.
import type { Command } from "commander";
import { VbatchError } from "../../errors.js";
import { FORMAT_NAMES, type FormatName } from "../../formats/index.js";
import { problemsError } from "../../tools/problems.js";
import type { ValidateReport } from "../../tools/validate/index.js";
import { echoId } from "../../util/echo.js";
import { int } from "../format.js";
import { endpointFlag, intFlag, MAX_LINE_FLAG, maxLineBytesOf, maxLineMbFlag, oneOf } from "../options.js";
import { printable } from "../printable.js";

interface ValidateFlags {
  maxModelLen?: number;
  endpoint?: string;
  model?: string;
  concurrency: number;
  json?: boolean;
  format?: FormatName;
  maxLineMb?: number;
}

function counts(record: Record<string, number>): string {
  const entries = Object.entries(record).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? "none" : entries.map(([k, n]) => `${k} ${int(n)}`).join(", ");
}

export function renderValidate(r: ValidateReport): string {
  const lines = [
    `vbatch validate: ${r.input}`,
    `  rows              ${int(r.rows)} valid of ${int(r.lines)} lines`,
    `  urls              ${counts(r.byUrl)}`,
    `  models            ${counts(r.models)}`,
    `  duplicate prompts ${int(r.duplicatePrompts)} (rows repeating an earlier row's url and body)`,
  ];
  const lp = r.longestPrompt;
  if (lp)
    lines.push(
      `  longest prompt    ${int(lp.chars)} characters (custom_id ${echoId(lp.customId)}, line ${lp.line})`,
    );
  const c = r.context;
  if (c) {
    const longest = c.longestPromptTokens;
    lines.push(
      `  context           ${int(c.checked)} rows checked, ${int(c.tooLong)} too long; tokens ${c.description}`,
    );
    if (longest) {
      lines.push(
        `  longest in tokens ${int(longest.tokens)} (custom_id ${echoId(longest.customId)}, line ${longest.line})`,
      );
    }
    if (c.unknownLength > 0)
      lines.push(`  not checked       ${int(c.unknownLength)} rows (no max_model_len known for their model)`);
  } else {
    lines.push("  context           not checked (pass --endpoint <url> or --max-model-len <n>)");
  }
  lines.push(`  problems          ${r.problemCount === 0 ? "none" : int(r.problemCount)}`);
  return `${lines.map(printable).join("\n")}\n`;
}

export function registerValidateCommand(program: Command): void {
  program
    .command("validate")
    .description("check a batch input file without sending it: every problem with its line number")
    .argument("<input>", "input .jsonl or .jsonl.gz file, or - for stdin")
    .option(
      "--max-model-len <n>",
      "flag rows whose prompt + max_tokens exceed this context",
      intFlag("--max-model-len"),
    )
    .option(
      "-e, --endpoint <url>",
      "a live engine: its max_model_len, and exact counts from its /tokenize",
      endpointFlag,
    )
    .option("-m, --model <id>", "model for rows without body.model (default: the engine's only model)")
    .option("-c, --concurrency <n>", "/tokenize requests in flight", intFlag("--concurrency"), 16)
    .option(
      "--format <name>",
      "read the input as openai, anthropic, gemini or bedrock batch lines (default: each line as it is)",
      oneOf("--format", FORMAT_NAMES),
    )
    .option(...MAX_LINE_FLAG, maxLineMbFlag)
    .option("--json", "print the report as JSON on stdout")
    .action(async (input: string, flags: ValidateFlags) => {
      const { validateInput } = await import("../../tools/validate/index.js");
      const r = await validateInput({
        input,
        format: flags.format,
        maxLineBytes: maxLineBytesOf(flags.maxLineMb),
        maxModelLen: flags.maxModelLen,
        endpoint: flags.endpoint,
        model: flags.model,
        concurrency: flags.concurrency,
      });
      process.stdout.write(flags.json ? `${JSON.stringify(r)}\n` : renderValidate(r));
      if (r.notJsonl) throw new VbatchError("invalid_input", r.notJsonl);
      if (!r.ok) {
        throw problemsError(input, { count: r.problemCount, listed: r.problems });
      }
    });
}
