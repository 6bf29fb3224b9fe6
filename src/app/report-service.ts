import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { VmsightError } from '../core/index.js';
import { ReportFormat, type ReportRecord } from '../evidence/index.js';
import {
  CASE_VERSION,
  UCO_VERSION,
  buildReportModel,
  renderCase,
  renderHtml,
  renderPdf,
  type ReportModel,
} from '../reports/index.js';
import { withLocker, type EvidenceHomeOption } from './evidence-service.js';
import { VERSION } from './version.js';

const FORMATS: readonly string[] = Object.values(ReportFormat);

export interface ReportEvidenceOptions extends EvidenceHomeOption {
  readonly format: string;
  readonly output: string;
  readonly reason?: string;
  /** Render this analysis run instead of the latest. */
  readonly runId?: string;
  /** Headless Chromium for `pdf` (default: `$VMSIGHT_CHROMIUM` or `chromium`). */
  readonly chromium?: string;
}

export interface ReportResult {
  readonly output: string;
  readonly record: ReportRecord;
  readonly processes: number;
  readonly findings: number;
}

async function writeReport(
  model: ReportModel,
  format: ReportFormat,
  output: string,
  chromium?: string,
): Promise<void> {
  switch (format) {
    case 'json':
      await writeFile(output, `${JSON.stringify(model, null, 2)}\n`);
      return;
    case 'case':
      await writeFile(output, `${JSON.stringify(renderCase(model), null, 2)}\n`);
      return;
    case 'html':
      await writeFile(output, renderHtml(model));
      return;
    case 'pdf':
      await renderPdf(renderHtml(model), output, chromium === undefined ? {} : { chromium });
      return;
  }
}

/**
 * `vmsight report EVIDENCE_ID --format case|html|pdf|json -o FILE`: renders the item, its custody
 * log and its latest analysis, then hashes and signs the file and records it (a `reports` row and
 * a signed `reported` custody event), keeping a copy in the blob store.
 */
export async function reportEvidence(
  itemId: string,
  options: ReportEvidenceOptions,
): Promise<ReportResult> {
  if (!FORMATS.includes(options.format)) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Unknown report format "${options.format}": use one of ${FORMATS.join(', ')}`,
    );
  }
  const format = options.format as ReportFormat;
  const output = resolve(options.output);
  return withLocker(options, async (locker) => {
    const details = await locker.show(itemId);
    if (details.item.status !== 'complete') {
      throw new VmsightError(
        'INVALID_ARGUMENT',
        `Cannot report on item "${itemId}": it is ${details.item.status}`,
      );
    }
    const analysis = await locker.analysis(itemId, options.runId);
    const model = buildReportModel({
      item: details.item,
      blobs: details.blobs,
      custody: details.events,
      generator: { name: 'vmsight', version: VERSION, role: 'reporting' },
      ...(analysis === undefined ? {} : { analysis }),
    });
    await writeReport(model, format, output, options.chromium);
    const { record } = await locker.recordReport(itemId, {
      path: output,
      format,
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      analysisRunId: analysis?.runId,
      details: {
        tool: { name: 'vmsight', version: VERSION },
        file: basename(output),
        ...(format === 'case' ? { ontology: { case: CASE_VERSION, uco: UCO_VERSION } } : {}),
      },
    });
    return { output, record, processes: model.processes.length, findings: model.findings.length };
  });
}
