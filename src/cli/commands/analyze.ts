import type { Command } from 'commander';
import { VmsightError } from '../../core/index.js';
import { analyzeDump, analyzeEvidence, type AnalysisOutcome } from '../../app/index.js';
import { printJson, printTable } from '../output.js';
import { ProgressBar } from '../progress.js';

interface AnalyzeFlags {
  dump?: string;
  kernel?: string;
  isf?: string;
  reason?: string;
  home?: string;
  json?: boolean;
}

function printOutcome(outcome: AnalysisOutcome): void {
  process.stdout.write(`${outcome.source}: ${outcome.kernel}\n`);
  if (outcome.runId !== undefined) {
    process.stdout.write(
      `analysis ${outcome.runId} recorded in custody of ${outcome.itemId ?? ''}\n`,
    );
  }
  printTable(outcome.plugins, [
    { header: 'PLUGIN', value: (p) => p.plugin },
    { header: 'VERSION', value: (p) => p.version },
    { header: 'STATUS', value: (p) => p.status },
    { header: 'ROWS', value: (p) => p.rows, align: 'right' },
    { header: 'WARNINGS', value: (p) => p.warnings, align: 'right' },
    { header: 'NOTE', value: (p) => p.reason ?? '' },
  ]);
  process.stdout.write(`\n${outcome.findings.length} finding(s)\n`);
  if (outcome.findings.length > 0) {
    printTable(outcome.findings, [
      { header: 'SEVERITY', value: (f) => f.severity },
      { header: 'KIND', value: (f) => f.kind },
      { header: 'PID', value: (f) => f.pid, align: 'right' },
      { header: 'COMM', value: (f) => f.comm },
      { header: 'REASON', value: (f) => f.reason },
    ]);
  }
}

/** `vmsight analyze EVIDENCE_ID` and `vmsight analyze --dump FILE`. */
export function registerAnalyzeCommand(program: Command): void {
  program
    .command('analyze')
    .description(
      'run the introspection plugins on evidence (or a dump), store the results and flag findings',
    )
    .argument('[id]', 'evidence item id (results are stored and recorded in custody)')
    .option('--dump <file>', 'analyse an ELF core from dump-guest-memory instead (nothing stored)')
    .option('--kernel <vmlinux>', 'guest vmlinux with BTF (default: the lab kernel if it matches)')
    .option('--isf <file>', 'symbol table (ISF JSON) instead of BTF')
    .option('--reason <text>', 'why it is analysed (recorded, signed, in custody)')
    .option('--home <dir>', 'key and evidence store (default: $VMSIGHT_HOME or .vmsight)')
    .option('--json', 'print the outcome as JSON')
    .action(async (id: string | undefined, flags: AnalyzeFlags) => {
      if ((id === undefined) === (flags.dump === undefined)) {
        throw new VmsightError(
          'INVALID_ARGUMENT',
          'Give an evidence id or --dump FILE (one of them)',
        );
      }
      const common = {
        ...(flags.kernel === undefined ? {} : { kernel: flags.kernel }),
        ...(flags.isf === undefined ? {} : { isf: flags.isf }),
      };
      let outcome: AnalysisOutcome;
      if (id === undefined) {
        outcome = await analyzeDump(flags.dump ?? '', common);
      } else {
        const bar = new ProgressBar({ enabled: flags.json !== true });
        outcome = await analyzeEvidence(id, {
          ...common,
          ...(flags.home === undefined ? {} : { home: flags.home }),
          ...(flags.reason === undefined ? {} : { reason: flags.reason }),
          onProgress: (report) => bar.update(report),
        }).finally(() => bar.finish());
      }
      if (flags.json === true) printJson(outcome);
      else printOutcome(outcome);
    });
}
