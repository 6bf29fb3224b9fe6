import { CommanderError } from 'commander';
import { VmsightError, exitCodeFor } from '../core/index.js';
import { buildProgram } from './program.js';

/**
 * Runs the command line and returns the process exit status: 0 success, 1 "ran and raised an
 * alarm", 2 and up an error (see `EXIT_CODE_BY_ERROR` and README "Exit codes"). Errors are printed
 * as one line naming what was wrong and where; `--json` commands print them as a JSON object too.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (usage errors, --help, --version).
      return error.exitCode === 0
        ? 0
        : exitCodeFor(new VmsightError('INVALID_ARGUMENT', error.message));
    }
    reportError(error, argv.includes('--json'));
    return exitCodeFor(error);
  }
}

function reportError(error: unknown, json: boolean): void {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof VmsightError ? error.code : 'INTERNAL';
  if (json) {
    const details = error instanceof VmsightError ? error.details : {};
    process.stdout.write(`${JSON.stringify({ error: { code, message, details } })}\n`);
  }
  process.stderr.write(`vmsight: ${message}\n`);
  if (!(error instanceof VmsightError) && error instanceof Error && error.stack) {
    process.stderr.write(`${error.stack}\n`);
  }
}
