import type Database from 'better-sqlite3';
import type { AnalysisRecord, ReportRecord } from './work-products.js';

/**
 * The evidence database's statements on work products (`analyses` and `reports` of
 * _schema-migrations.ts, append-only by trigger). Callers supply the transactions and the
 * custody event each one is recorded with.
 */

export function insertAnalyses(db: Database.Database, records: readonly AnalysisRecord[]): void {
  const insert = db.prepare(
    `INSERT INTO analyses (id, item_id, run_id, plugin, plugin_version, created_at,
       result_sha256, result_size, row_count)
     VALUES (@id, @itemId, @runId, @plugin, @pluginVersion, @createdAt, @resultSha256,
       @resultSize, @rowCount)`,
  );
  for (const record of records) {
    insert.run({ ...record });
  }
}

export function selectAnalyses(db: Database.Database, itemId: string): AnalysisRecord[] {
  return db
    .prepare(
      `SELECT id, item_id AS itemId, run_id AS runId, plugin, plugin_version AS pluginVersion,
         created_at AS createdAt, result_sha256 AS resultSha256, result_size AS resultSize,
         row_count AS rowCount
       FROM analyses WHERE item_id = ? ORDER BY created_at, rowid`,
    )
    .all(itemId) as AnalysisRecord[];
}

export function insertReport(db: Database.Database, record: ReportRecord): void {
  db.prepare(
    `INSERT INTO reports (id, item_id, format, created_at, sha256, signature, size,
       signer_key, analysis_run_id)
     VALUES (@id, @itemId, @format, @createdAt, @sha256, @signature, @size, @signerKey,
       @analysisRunId)`,
  ).run({ ...record, analysisRunId: record.analysisRunId ?? null });
}

export function selectReports(db: Database.Database, itemId: string): ReportRecord[] {
  const rows = db
    .prepare(
      `SELECT id, item_id AS itemId, format, created_at AS createdAt, sha256, size, signature,
         signer_key AS signerKey, analysis_run_id AS analysisRunId
       FROM reports WHERE item_id = ? ORDER BY created_at, rowid`,
    )
    .all(itemId) as (ReportRecord & { analysisRunId: string | null })[];
  return rows.map(({ analysisRunId, ...rest }) =>
    analysisRunId === null ? rest : { ...rest, analysisRunId },
  );
}
