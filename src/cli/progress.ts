import type { ProgressReport } from '../core/index.js';

/**
 * Draws a one-line progress bar on standard error when it is a terminal, and nothing otherwise
 * (pipes, CI, `--json` mode), so that machine-read output never carries control characters.
 */
export class ProgressBar {
  readonly #enabled: boolean;
  #lastDraw = 0;

  constructor(options: { readonly enabled?: boolean } = {}) {
    this.#enabled = (options.enabled ?? true) && process.stderr.isTTY === true;
  }

  update(report: ProgressReport): void {
    if (!this.#enabled) return;
    const now = Date.now();
    if (now - this.#lastDraw < 100 && report.done !== report.total) return;
    this.#lastDraw = now;
    const width = 30;
    let line = `${report.label} ${report.done}`;
    if (report.total !== undefined && report.total > 0) {
      const fraction = Math.min(1, report.done / report.total);
      const filled = Math.round(fraction * width);
      line = `${report.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${report.done}/${report.total}`;
    }
    process.stderr.write(`\r${line}\u001b[K`);
  }

  finish(): void {
    if (this.#enabled) process.stderr.write('\r\u001b[K');
  }
}
