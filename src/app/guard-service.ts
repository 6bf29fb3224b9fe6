import { VmsightError } from '../core/index.js';
import { readGuestEvents, type GuestEvent } from '../events/index.js';
import {
  EscapeMatcher,
  IoWindowBuilder,
  ioTokens,
  loadRecordedStreams,
  loadRules,
  rng,
  runGuardBench,
  syntheticBatch,
  type EscapeRule,
  type GuardBenchFigures,
  type IoAccess,
} from '../guard/index.js';
import { MarkovIoEngine } from './markov-io-engine.js';

/** One row of `vmsight guard rules`. */
export interface GuardRuleSummary {
  readonly id: string;
  readonly cves: readonly string[];
  readonly device: string;
  readonly severity: string;
  readonly action: string;
  readonly matcher: string;
  readonly checkedAgainst: readonly string[];
  readonly file: string;
}

/** The rule set (shipped rules, or the `*.yaml` files of `dir`). */
export async function listGuardRules(dir?: string): Promise<GuardRuleSummary[]> {
  const rules = await loadRules(dir);
  return rules.map((rule) => ({
    id: rule.id,
    cves: rule.cves,
    device: rule.device,
    severity: rule.severity,
    action: rule.action,
    matcher: rule.match.kind,
    checkedAgainst: rule.checkedAgainst.map(
      (check) =>
        check.file + (check.fix === undefined ? '' : ` @ ${check.fix.split(' ')[0]?.slice(0, 12)}`),
    ),
    file: rule.file,
  }));
}

export interface GuardTraceHit {
  readonly vm: string;
  readonly ruleId: string;
  readonly cves: readonly string[];
  readonly action: string;
  readonly severity: string;
  /** Position of the triggering access among the trace's port/MMIO events (from 1). */
  readonly eventNumber: number;
  readonly events: readonly IoAccess[];
}

export interface GuardTraceReport {
  readonly ioEvents: number;
  readonly vms: number;
  readonly hits: readonly GuardTraceHit[];
}

/** Runs the rules over a recorded trace (`.vmtrace.jsonl[.zst]`), per VM, in order. */
export async function testGuardTrace(options: {
  trace: string;
  rulesDir?: string;
  window?: number;
}): Promise<GuardTraceReport> {
  const rules: EscapeRule[] = await loadRules(options.rulesDir);
  const matcher = new EscapeMatcher(rules);
  const windowSize = options.window ?? 256;
  const builders = new Map<string, { builder: IoWindowBuilder; seen: number }>();
  const hits: GuardTraceHit[] = [];
  let ioEvents = 0;
  const flush = (vm: string): void => {
    const entry = builders.get(vm);
    if (entry === undefined || entry.builder.count === 0) return;
    const first = entry.seen - entry.builder.count;
    const { io, times } = entry.builder.finish();
    for (const hit of matcher.scan(vm, io, times)) {
      hits.push({
        vm,
        ruleId: hit.ruleId,
        cves: hit.cves,
        action: hit.action,
        severity: hit.severity,
        eventNumber: first + hit.triggerIndex + 1,
        events: hit.events,
      });
    }
  };
  let events: AsyncGenerator<GuestEvent>;
  try {
    events = readGuestEvents('vmtrace', options.trace);
  } catch (cause) {
    throw new VmsightError('INVALID_ARGUMENT', `Cannot read trace "${options.trace}"`, { cause });
  }
  for await (const event of events) {
    if (event.type !== 'port-io' && event.type !== 'mmio') continue;
    let entry = builders.get(event.vm);
    if (entry === undefined) {
      entry = { builder: new IoWindowBuilder(windowSize), seen: 0 };
      builders.set(event.vm, entry);
    }
    entry.builder.addEvent(event);
    entry.seen += 1;
    ioEvents += 1;
    if (entry.builder.count >= windowSize) flush(event.vm);
  }
  for (const vm of builders.keys()) flush(vm);
  return { ioEvents, vms: builders.size, hits };
}

/**
 * `vmsight guard bench`: the guard against the Markov engine, and the engine alone, per VM count.
 * Streams are synthetic lab-shaped ones, or with `recorded` the lab guest's own recorded streams
 * (src/guard/fixtures: TCG boot and workloads, and the real VENOM loop captured under KVM).
 */
export async function benchGuard(options: {
  vms: readonly number[];
  rounds?: number;
  windowSize?: number;
  recorded?: boolean;
}): Promise<GuardBenchFigures[]> {
  const rules = await loadRules();
  const windowSize = options.windowSize ?? 64;
  const streams = options.recorded === true ? await loadRecordedStreams(windowSize) : undefined;
  // Train the engine on benign windows: the recording's first ones, or synthetic lab-shaped ones.
  const training: Uint32Array[] = [];
  if (streams !== undefined) {
    for (const io of streams.benign.slice(0, 40)) training.push(ioTokens(io, 0, windowSize));
  } else {
    const random = rng(1);
    for (let vm = 0; vm < 40; vm += 1) {
      const batch = syntheticBatch(vm, 1, windowSize, 0, random);
      training.push(ioTokens(batch.io, 0, batch.refs[0]?.count ?? 0));
    }
  }
  const figures: GuardBenchFigures[] = [];
  for (const vms of options.vms) {
    for (const mode of ['guard', 'direct'] as const) {
      const engine = MarkovIoEngine.train(training);
      figures.push(
        await runGuardBench({
          vms,
          rounds: options.rounds ?? 12,
          windowSize,
          batchWindows: 64,
          rules,
          engine,
          mode,
          ...(streams === undefined ? {} : { streams }),
        }),
      );
    }
  }
  return figures;
}
