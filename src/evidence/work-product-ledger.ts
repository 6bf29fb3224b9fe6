import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { VmsightError } from '../core/index.js';
import { canonicalJson, type JsonObject, type JsonValue } from './canonical-json.js';
import type { CustodyAction, CustodyEvent } from './evidence-records.js';
import { storeBytes, storeStream } from './hashing-compressor.js';
import { signReportHash } from './report-signature.js';
import type { AnalysisRecord, ReportFormat, ReportRecord } from './work-products.js';
import { requireItem, signNextEvent, stampedId, type LockerContext } from './_locker-context.js';

/** The next signed event of an item's custody log (not yet stored). */
export async function nextCustodyEvent(
  context: LockerContext,
  itemId: string,
  action: CustodyAction,
  reason: string,
  details: JsonObject,
): Promise<CustodyEvent> {
  const last = (await context.store.getEvents(itemId)).at(-1);
  if (last === undefined) {
    throw new VmsightError('INVALID_ARGUMENT', `Item "${itemId}" has no custody log to append to`);
  }
  return signNextEvent(context, last, { itemId, action, reason, details });
}

/** One plugin's result as it is stored: any JSON document (rows, warnings, …). */
export interface AnalysisResult {
  readonly plugin: string;
  readonly pluginVersion: string;
  readonly rowCount: number;
  readonly document: JsonValue;
}

export interface AnalysisRunInput {
  readonly results: readonly AnalysisResult[];
  readonly reason?: string;
  /** Facts about the run for the `analysed` event (image hash, kernel, findings count, tool). */
  readonly summary: JsonObject;
}

export interface AnalysisRun {
  readonly runId: string;
  readonly createdAt: string;
  readonly records: readonly AnalysisRecord[];
  readonly event?: CustodyEvent;
}

/**
 * Stores each result as a canonical-JSON blob, then the records and a signed `analysed` custody
 * event naming every result's hash, in one transaction (a crash between leaves only unreferenced
 * blobs, which `vmsight evidence gc` removes).
 */
export async function recordAnalysisRun(
  context: LockerContext,
  itemId: string,
  input: AnalysisRunInput,
): Promise<AnalysisRun> {
  await requireItem(context.store, itemId);
  const now = new Date();
  const id = stampedId('an', now);
  const records: AnalysisRecord[] = [];
  for (const result of input.results) {
    const digest = await storeBytes(context.blobs, Buffer.from(canonicalJson(result.document)), {
      encoding: 'none',
      owner: itemId,
    });
    records.push({
      id: `${id}/${result.plugin}`,
      itemId,
      runId: id,
      plugin: result.plugin,
      pluginVersion: result.pluginVersion,
      createdAt: now.toISOString(),
      resultSha256: digest.sha256,
      resultSize: digest.size,
      rowCount: result.rowCount,
    });
  }
  const event = await nextCustodyEvent(context, itemId, 'analysed', input.reason ?? '', {
    runId: id,
    ...input.summary,
    results: records.map((record) => ({
      plugin: record.plugin,
      version: record.pluginVersion,
      sha256: record.resultSha256,
      size: record.resultSize,
      rows: record.rowCount,
    })),
  });
  await context.store.recordAnalyses(itemId, records, event);
  return { runId: id, createdAt: now.toISOString(), records, event };
}

/** A stored run with its documents, each checked against the hash its record (and event) names. */
export interface LoadedAnalysisRun extends AnalysisRun {
  readonly documents: ReadonlyMap<string, JsonValue>;
}

/** The latest (or the named) analysis run of an item, or undefined when it was never analysed. */
export async function loadAnalysisRun(
  context: Pick<LockerContext, 'store' | 'blobs'>,
  itemId: string,
  wanted?: string,
): Promise<LoadedAnalysisRun | undefined> {
  const all = await context.store.listAnalyses(itemId);
  const chosen = wanted ?? all.at(-1)?.runId;
  const records = all.filter((record) => record.runId === chosen);
  if (chosen === undefined || records.length === 0) {
    if (wanted === undefined) return undefined;
    throw new VmsightError('NOT_FOUND', `Item "${itemId}" has no analysis run "${wanted}"`);
  }
  const documents = new Map<string, JsonValue>();
  for (const record of records) {
    const bytes = await readFile(context.blobs.pathOf(record.resultSha256)).catch(
      (error: unknown) => {
        throw new VmsightError(
          'NOT_FOUND',
          `Analysis result ${record.id} is missing from the blob store`,
          {
            cause: error,
          },
        );
      },
    );
    if (createHash('sha256').update(bytes).digest('hex') !== record.resultSha256) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Analysis result ${record.id} does not match its recorded SHA-256: run "vmsight evidence verify ${itemId}"`,
      );
    }
    documents.set(record.plugin, JSON.parse(bytes.toString('utf8')) as JsonValue);
  }
  return { runId: chosen, createdAt: records[0]?.createdAt ?? '', records, documents };
}

export interface ReportInput {
  /** The rendered report, already written (the file the reader receives). */
  readonly path: string;
  readonly format: ReportFormat;
  readonly reason?: string;
  readonly analysisRunId?: string | undefined;
  /** Facts for the `reported` event (renderer, ontology version, output name). */
  readonly details?: JsonObject;
}

/**
 * Keeps a copy of a rendered report in the blob store, signs its SHA-256 and records it with a
 * signed `reported` custody event, in one transaction.
 */
export async function recordReportFile(
  context: LockerContext,
  itemId: string,
  input: ReportInput,
): Promise<{ record: ReportRecord; event: CustodyEvent }> {
  await requireItem(context.store, itemId);
  const digest = await storeStream(context.blobs, createReadStream(input.path), {
    encoding: 'none',
    owner: itemId,
  });
  const at = new Date();
  const now = at.toISOString();
  const record: ReportRecord = {
    id: stampedId('rp', at),
    itemId,
    format: input.format,
    createdAt: now,
    sha256: digest.sha256,
    size: digest.size,
    signature: signReportHash(context.keys, digest.sha256),
    signerKey: context.keys.identity.signingKey,
    ...(input.analysisRunId === undefined ? {} : { analysisRunId: input.analysisRunId }),
  };
  const event = await nextCustodyEvent(context, itemId, 'reported', input.reason ?? '', {
    ...input.details,
    reportId: record.id,
    format: record.format,
    sha256: record.sha256,
    size: record.size,
    signature: record.signature,
    ...(input.analysisRunId === undefined ? {} : { analysisRunId: input.analysisRunId }),
  });
  await context.store.recordReport(record, event);
  return { record, event };
}
