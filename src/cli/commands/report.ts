import type { Command } from 'commander';
import { reportEvidence } from '../../app/index.js';
import { printJson } from '../output.js';

/** `vmsight report EVIDENCE_ID --format case|html|pdf|json -o FILE`. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description(
      'render a signed report of an evidence item (CASE/UCO JSON-LD, HTML, PDF or JSON) and record it in custody',
    )
    .argument('<id>', 'evidence item id')
    .requiredOption('--format <format>', 'case, html, pdf or json')
    .requiredOption('-o, --output <file>', 'where to write the report')
    .option('--run <runId>', 'render this analysis run (default: the latest)')
    .option('--reason <text>', 'why it is reported (recorded, signed, in custody)')
    .option('--home <dir>', 'key and evidence store (default: $VMSIGHT_HOME or .vmsight)')
    .option('--json', 'print the report record as JSON')
    .action(
      async (
        id: string,
        flags: {
          format: string;
          output: string;
          run?: string;
          reason?: string;
          home?: string;
          json?: boolean;
        },
      ) => {
        const result = await reportEvidence(id, {
          format: flags.format,
          output: flags.output,
          ...(flags.run === undefined ? {} : { runId: flags.run }),
          ...(flags.reason === undefined ? {} : { reason: flags.reason }),
          ...(flags.home === undefined ? {} : { home: flags.home }),
        });
        if (flags.json === true) {
          printJson(result);
          return;
        }
        process.stdout.write(
          `${result.output}  ${result.record.format}  sha256 ${result.record.sha256}\n` +
            `signed by ${result.record.signerKey}: ${result.record.signature}\n` +
            `${result.processes} processes, ${result.findings} findings; recorded as ${result.record.id}\n`,
        );
      },
    );
}
