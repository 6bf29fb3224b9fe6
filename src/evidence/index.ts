/**
 * Public surface of `evidence`: acquisition into a content-addressed blob store, the SQLite
 * evidence database, signed hash-chained custody, sealed bundles for a third-party analyst.
 *
 * Work products: `EvidenceLocker.recordAnalysis` stores plugin results as blobs named by `analyses`
 * rows with a signed `analysed` event; `recordReport` signs a rendered report and records it in
 * `reports` with a `reported` event (work-product-ledger.ts).
 */
export { BlobStore, isProcessAlive, type BlobWriter } from './blob-store.js';
export {
  collectUnreferencedBlobs,
  type CollectOptions,
  type CollectResult,
} from './blob-collector.js';
export { canonicalJson, isJsonObject, type JsonObject, type JsonValue } from './canonical-json.js';
export { custodySignatureValid, hashCustodyBody, signCustodyEvent } from './custody-event.js';
export {
  BlobRole,
  CustodyAction,
  GENESIS_HASH,
  ItemOrigin,
  ItemStatus,
  type BlobEncoding,
  type CaseRecord,
  type CustodyActor,
  type CustodyEvent,
  type CustodyEventBody,
  type EvidenceItem,
  type ItemBlob,
} from './evidence-records.js';
export type { EvidenceStore, ItemCompletion, ItemFilter } from './evidence-store.js';
export {
  EvidenceLocker,
  type AcquireOptions,
  type CaptureRecord,
  type EvidenceLockerOptions,
  type ExportOptions,
  type ExportResult,
  type ImageSink,
  type ImportOptions,
  type ImportResult,
  type ItemDetails,
  type ToolInfo,
} from './evidence-locker.js';
export {
  checkCustodyChain,
  verifyItem,
  type VerificationProblem,
  type VerificationReport,
} from './evidence-verifier.js';
export { HashMeter, storeStream, type StoredDigest } from './hashing-compressor.js';
export { KeyStore, type KeyStoreInitOptions, type TrustedSigner } from './key-store.js';
export { MemoryEvidenceStore } from './memory-evidence-store.js';
export { formatPublicIdentity, parseRecipientKey, type PublicIdentity } from './public-identity.js';
export {
  qmpMemoryCapture,
  removeStaleFifos,
  type QmpCaptureOptions,
} from './qmp-memory-capture.js';
export { keyFingerprint } from './raw-keys.js';
export { shmMemoryCapture, type ShmCaptureOptions } from './shm-memory-capture.js';
export { SqliteEvidenceStore } from './sqlite-evidence-store.js';
export {
  FindingKind,
  SEVERITIES,
  findFindings,
  type Finding,
  type FindingInput,
  type MappingFacts,
  type ProcessFacts,
  type Severity,
  type SocketFacts,
  type TaskViewFacts,
} from './analysis-findings.js';
export {
  checkExpectedSender,
  parseExpectedSender,
  type ExpectedSender,
} from './expected-sender.js';
export {
  extractMemoryImage,
  removeStaleImages,
  type MemoryImageFile,
} from './memory-image-file.js';
export { reportSignatureValid, signReportHash } from './report-signature.js';
export {
  loadAnalysisRun,
  type AnalysisResult,
  type AnalysisRun,
  type AnalysisRunInput,
  type LoadedAnalysisRun,
  type ReportInput,
} from './work-product-ledger.js';
export { ReportFormat, type AnalysisRecord, type ReportRecord } from './work-products.js';
