import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { VmsightError } from '../core/index.js';

export interface PdfOptions {
  /** The browser; default `$VMSIGHT_CHROMIUM` or `chromium` (Debian's package) on PATH. */
  readonly chromium?: string;
  readonly timeoutMs?: number;
}

const INSTALL = 'apt-get install -y --no-install-recommends chromium';

/**
 * Renders self-contained HTML to PDF with headless Chromium (`--print-to-pdf`). The HTML goes to a
 * private temporary directory that is also the browser's profile, so no state is shared with
 * other runs; `--no-sandbox` because the renderer typically runs as root in a container here,
 * where Chromium's sandbox cannot start, and the page is our own escaped, script-free HTML under a
 * `default-src 'none'` policy.
 */
export async function renderPdf(
  html: string,
  output: string,
  options: PdfOptions = {},
): Promise<void> {
  const chromium = options.chromium ?? process.env['VMSIGHT_CHROMIUM'] ?? 'chromium';
  const dir = await mkdtemp(join(tmpdir(), 'vmsight-pdf-'));
  try {
    const page = join(dir, 'report.html');
    await writeFile(page, html, { mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      execFile(
        chromium,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--no-pdf-header-footer',
          `--user-data-dir=${join(dir, 'profile')}`,
          `--print-to-pdf=${output}`,
          pathToFileURL(page).href,
        ],
        { timeout: options.timeoutMs ?? 120_000, env: { ...process.env, HOME: dir } },
        (error, _stdout, stderr) => {
          if (error === null) {
            resolve();
            return;
          }
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
            reject(
              new VmsightError(
                'DEPENDENCY_MISSING',
                `Cannot render a PDF: "${chromium}" is not installed: install it with "${INSTALL}", or choose --format html`,
                { details: { chromium, command: INSTALL } },
              ),
            );
            return;
          }
          reject(
            new VmsightError(
              'IO_ERROR',
              `Chromium failed to print the report: ${stderr.trim().slice(-500) || error.message}`,
              {
                cause: error,
              },
            ),
          );
        },
      );
    });
    const written = await stat(output).catch(() => undefined);
    if (written === undefined || written.size === 0) {
      throw new VmsightError('IO_ERROR', `Chromium wrote no PDF to "${output}"`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
