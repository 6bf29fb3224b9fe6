/**
 * Public surface of `guard`: the VM-escape knowledge base (rule files as data), the compiled
 * matcher, and the worker-backed fast path in front of the analysis engine.
 */
export {
  IoSpace,
  RuleAction,
  Severity,
  valueMatches,
  type AccessPattern,
  type EscapeRule,
  type Matcher,
  type SourceCheck,
  type ValueCondition,
} from './rule.js';
export { BUILTIN_RULES_DIR, loadRules, parseRuleFile } from './rule-loader.js';
export { EscapeMatcher } from './escape-matcher.js';
export { MAX_HIT_EVENTS, type RuleHit } from './rule-hit.js';
export type { DeviceBindings } from './rule-dispatch.js';
export type { MemoryProbe } from './memory-predicate.js';
export { IO_STRIDE, IoKind, IoWindowBuilder, decodeAccess, type IoAccess } from './io-window.js';
export { ioToken, ioTokens } from './io-token.js';
export { VerdictCache } from './verdict-cache.js';
export { BoundedQueue, ShedReason, type QueueOutcome } from './bounded-queue.js';
export type { AnalysisEngine, EngineVerdict } from './analysis-engine.js';
export type { AlertSink, EvidenceHook, GuardAlert, VmController } from './guard-alert.js';
export { GuardCore } from './guard-core.js';
export {
  EscapeGuard,
  GuardFate,
  type EscapeGuardOptions,
  type GuardCounters,
  type GuardVerdict,
  type GuardWindowInput,
} from './escape-guard.js';
export {
  WorkerFate,
  transferListOf,
  type Init,
  type MemorySample,
  type ScanRequest,
  type ScanResult,
  type WindowRef,
  type WorkerError,
} from './protocol.js';
export {
  runGuardBench,
  type GuardBenchFigures,
  type GuardBenchOptions,
} from './guard-bench-runner.js';
export {
  StreamKind,
  appendWindow,
  rng,
  streamKindOf,
  syntheticBatch,
} from './synthetic-streams.js';
export {
  parseQueryPci,
  pciGuardLayout,
  queryPciGuardLayout,
  type PciBar,
  type PciDevice,
  type PciGuardLayout,
} from './pci-bindings.js';
export { MAX_PROBE_BYTES, RamFileProbe } from './ram-file-probe.js';
export {
  RECORDED_BENIGN_STREAM,
  RECORDED_ESCAPE_STREAM,
  loadRecordedStreams,
  recordedBatch,
  type RecordedStreams,
} from './recorded-streams.js';
