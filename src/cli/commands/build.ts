// `vbatch build`: flags to BuildOptions; a one-line summary on stderr (--json on stdout).
import type { Command } from "commander";
import { ENDPOINT_KINDS, type EndpointKind } from "../../tools/build/request.js";
import { int } from "../format.js";
import { intFlag, numberFlag, oneOf } from "../options.js";

interface BuildFlags {
  template: string;
  rows: string;
  model: string;
  output: string;
  force?: boolean;
  system?: string;
  idField?: string;
  endpointKind: EndpointKind;
  maxTokens?: number;
  temperature?: number;
  json?: boolean;
}

export function registerBuildCommand(program: Command): void {
  program
    .command("build")
    .description("turn a prompt template and a table of rows (CSV or JSONL) into a batch input file")
    .requiredOption("--template <file>", "prompt template; {{field}} is replaced by the row's field")
    .requiredOption("--rows <file>", "data rows: .csv with a header row, or .jsonl with one object a line")
    .requiredOption("-m, --model <id>", "body.model of every request")
    .requiredOption("-o, --output <file>", "batch input file to write (.jsonl)")
    .option("--system <file>", "system message template (chat), same placeholders")
    .option("--id-field <name>", "row field to use as custom_id (default: row-<n> from the row number)")
    .option(
      "--endpoint-kind <kind>",
      `request kind: ${ENDPOINT_KINDS.join(", ")}`,
      oneOf("--endpoint-kind", ENDPOINT_KINDS),
      "chat",
    )
    .option("--max-tokens <n>", "max_tokens of every request", intFlag("--max-tokens"))
    .option("--temperature <t>", "temperature of every request", numberFlag("--temperature", 0))
    .option("--force", "replace output files that already exist")
    .option("--json", "print the summary as JSON on stdout")
    .action(async (flags: BuildFlags) => {
      // The tool is loaded by its own command only: a CLI start loads no command it does not run.
      const { buildRequests } = await import("../../tools/build/index.js");
      const s = await buildRequests({
        template: flags.template,
        rows: flags.rows,
        model: flags.model,
        output: flags.output,
        force: flags.force,
        system: flags.system,
        idField: flags.idField,
        endpointKind: flags.endpointKind,
        maxTokens: flags.maxTokens,
        temperature: flags.temperature,
      });
      process.stderr.write(
        `vbatch: wrote ${int(s.rows)} requests (${s.url}, model ${s.model}, custom_id from ${s.customIds === "field" ? `--id-field ${flags.idField}` : "row numbers"}) to ${s.output}\n`,
      );
      if (flags.json) process.stdout.write(`${JSON.stringify(s)}\n`);
    });
}
