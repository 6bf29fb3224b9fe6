/**
 * Public surface of `app`: the composition layer. The CLI, API and dashboard call only these
 * functions, so that every front end behaves the same.
 */
export { VERSION } from './version.js';
export {
  DEFAULT_LAB_VM,
  buildLab,
  labDown,
  labStatus,
  labUp,
  type LabBuildResult,
  type LabUpOptions,
  type LabVmSummary,
} from './lab-service.js';
export {
  addVm,
  listRegisteredVms,
  removeVm,
  resolveVm,
  type AddVmOptions,
  type VmDescriptor,
} from './vm-registry.js';
export {
  readGuestMemory,
  type MemoryReadOptions,
  type MemoryReadResult,
} from './memory-service.js';
export {
  evaluateAdfaLd,
  type AdfaLdEvaluation,
  type AdfaLdEvaluationOptions,
  type AttackTypeDetection,
  type ModelEvaluation,
} from './adfa-evaluation.js';
export { trainModel, type TrainModelOptions, type TrainingSummary } from './model-training.js';
export {
  replayAlerts,
  scoreTraces,
  type ReplayAlertsOptions,
  type ScoreTracesOptions,
  type TraceResult,
  type WindowResult,
} from './trace-scoring.js';
export {
  SyscallAlerter,
  type SyscallAlert,
  type SyscallAlerterOptions,
} from './syscall-alerter.js';
export {
  loadModelSet,
  watchVm,
  type ProcessActivity,
  type WatchOptions,
  type WatchStats,
  type WatchUpdate,
} from './watch-service.js';
export {
  WATCH_SENSORS,
  parseWatchSensorKind,
  watchSensorCapture,
  type WatchSensorCapture,
  type WatchSensorKind,
} from './watch-sensor.js';
export {
  WatchGuard,
  type EscapeAlertUpdate,
  type EscapeEvidenceUpdate,
  type WatchGuardUpdate,
} from './watch-guard.js';
export {
  labSensorAddresses,
  labSensorQemuArgs,
  type LabKernelAddresses,
} from './sensor-addresses.js';
export {
  instrumentLabVmForTcgSensor,
  type InstrumentOptions,
  type InstrumentedLabVm,
} from './tcg-sensor-relaunch.js';
export { OverflowPolicy } from '../sensors/index.js';
export { IO_TOKEN_SPACE, IoVocabulary, ioToken } from './io-tokens.js';
export {
  isModelDirectory,
  readModelDirectory,
  writeModelDirectory,
  type IoSequenceModel,
  type ModelSet,
} from './model-directory.js';
export { ModelMonitor, type IoAlert, type WatchAlert } from './model-monitor.js';
export {
  learnVmModels,
  trainModelDirectory,
  type LearnVmOptions,
  type ModelDirectorySummary,
  type TrainModelDirectoryOptions,
} from './model-learning.js';
export { DetectorKind } from '../detectors/index.js';
export { TraceFormat } from '../events/index.js';
export {
  buildSymbols,
  openIntrospection,
  runPs,
  type IntrospectionSource,
  type OpenedIntrospection,
  type PsOptions,
  type PsPluginName,
  type PsResult,
  type SymbolsBuildOptions,
} from './introspection-service.js';
export { checkSymbols, type SymbolsCheckResult } from './symbols-check.js';
export {
  benchGuard,
  listGuardRules,
  testGuardTrace,
  type GuardRuleSummary,
  type GuardTraceHit,
  type GuardTraceReport,
} from './guard-service.js';
export { MarkovIoEngine } from './markov-io-engine.js';
export {
  acquireEvidence,
  collectEvidenceGarbage,
  evidencePaths,
  exportEvidence,
  importEvidence,
  initKeys,
  listEvidence,
  showEvidence,
  showKeys,
  verifyEvidence,
  type AcquireEvidenceOptions,
  type EvidenceHomeOption,
  type EvidencePaths,
  type ExportEvidenceOptions,
  type KeysSummary,
} from './evidence-service.js';
export {
  analyzeDump,
  analyzeEvidence,
  type AnalysisOutcome,
  type AnalyzeEvidenceOptions,
  type AnalyzeOptions,
  type PluginOutcome,
} from './analysis-service.js';
export { reportEvidence, type ReportEvidenceOptions, type ReportResult } from './report-service.js';
export type {
  EvidenceItem,
  ExportResult,
  ImportResult,
  ItemDetails,
  VerificationReport,
} from '../evidence/index.js';
