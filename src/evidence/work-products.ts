/**
 * What analysts make from an item: plugin results (`vmsight analyze`) and rendered reports
 * (`vmsight report`). Their bytes are blobs; these records name them, and each batch is recorded
 * together with the signed custody event (`analysed`, `reported`) that commits to its hashes.
 */

/** One plugin's result (or the findings) of one `analyze` run, stored as a canonical-JSON blob. */
export interface AnalysisRecord {
  /** `<runId>/<plugin>`. */
  readonly id: string;
  readonly itemId: string;
  /** Groups the records of one `analyze` run. */
  readonly runId: string;
  /** Plugin id (`linux.pslist`) or `vmsight.findings`. */
  readonly plugin: string;
  readonly pluginVersion: string;
  readonly createdAt: string;
  /** SHA-256 of the result blob (stored uncompressed, so also of its content). */
  readonly resultSha256: string;
  readonly resultSize: number;
  readonly rowCount: number;
}

/** Report formats of `vmsight report --format`. */
export const ReportFormat = { CASE: 'case', HTML: 'html', PDF: 'pdf', JSON: 'json' } as const;
export type ReportFormat = (typeof ReportFormat)[keyof typeof ReportFormat];

/** One rendered report: its bytes are a blob, its hash signed by `signerKey` (report-signature.ts). */
export interface ReportRecord {
  readonly id: string;
  readonly itemId: string;
  readonly format: ReportFormat;
  readonly createdAt: string;
  readonly sha256: string;
  readonly size: number;
  /** Ed25519 signature (base64url) of the report's SHA-256. */
  readonly signature: string;
  /** The signer's Ed25519 public key (raw, base64url). */
  readonly signerKey: string;
  /** The analysis run the report renders, when there was one. */
  readonly analysisRunId?: string | undefined;
}
