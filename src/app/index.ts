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
  scoreTraces,
  type ScoreTracesOptions,
  type TraceResult,
  type WindowResult,
} from './trace-scoring.js';
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
