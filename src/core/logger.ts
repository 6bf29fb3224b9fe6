import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Minimum level to write; `silent` turns logging off (tests, `--json` mode). */
  readonly level?: LevelWithSilent;
  /** Where log lines go. Standard error by default, so standard output stays for results. */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * Creates the structured (JSON lines) logger every module receives from its caller. Modules never
 * create loggers of their own, so one `--log-level` governs the whole process.
 *
 * @example
 * ```ts
 * import { createLogger } from './logger.js';
 * const log = createLogger({ level: 'silent' });
 * log.info({ vm: 'lab' }, 'capture started');
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level =
    options.level ?? (process.env['VMSIGHT_LOG_LEVEL'] as LevelWithSilent | undefined) ?? 'warn';
  return pino({ level, base: { name: 'vmsight' } }, options.destination ?? process.stderr);
}
