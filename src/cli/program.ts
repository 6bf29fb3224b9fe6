import { Command } from 'commander';
import { VERSION } from '../app/index.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerAnalyzeCommand } from './commands/analyze.js';
import { registerEvidenceCommand } from './commands/evidence.js';
import { registerKeysCommand } from './commands/keys.js';
import { registerGuardCommand } from './commands/guard.js';
import { registerLabCommand } from './commands/lab.js';
import { registerMemCommand } from './commands/mem.js';
import { registerPsCommand } from './commands/ps.js';
import { registerReportCommand } from './commands/report.js';
import { registerSymbolsCommand } from './commands/symbols.js';
import { registerScoreCommand } from './commands/score.js';
import { registerTrainCommand } from './commands/train.js';
import { registerVmCommand } from './commands/vm.js';
import { registerWatchCommand } from './commands/watch.js';

/**
 * The vmsight command tree. Each command lives in `commands/<name>.ts` and exports one
 * `register…Command(program)` function; this file only lists them, in the order `--help` shows.
 */
export function buildProgram(): Command {
  const program = new Command('vmsight')
    .description('Agentless security monitoring and forensics for QEMU/KVM virtual machines')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  registerLabCommand(program);
  registerVmCommand(program);
  registerMemCommand(program);
  registerPsCommand(program);
  registerSymbolsCommand(program);
  registerTrainCommand(program);
  registerScoreCommand(program);
  registerEvalCommand(program);
  registerWatchCommand(program);
  registerKeysCommand(program);
  registerEvidenceCommand(program);
  registerAnalyzeCommand(program);
  registerReportCommand(program);
  registerGuardCommand(program);
  return program;
}
