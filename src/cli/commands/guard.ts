import type { Command } from 'commander';
import {
  benchGuard,
  listGuardRules,
  testGuardTrace,
  type GuardRuleSummary,
  type GuardTraceHit,
} from '../../app/index.js';
import { printJson, printTable, type Column } from '../output.js';

const RULE_COLUMNS: readonly Column<GuardRuleSummary>[] = [
  { header: 'RULE', value: (row) => row.id },
  { header: 'CVE', value: (row) => row.cves.join(',') || '-' },
  { header: 'DEVICE', value: (row) => row.device },
  { header: 'MATCH', value: (row) => row.matcher },
  { header: 'SEVERITY', value: (row) => row.severity },
  { header: 'ACTION', value: (row) => row.action },
  { header: 'CHECKED AGAINST', value: (row) => row.checkedAgainst.join('; ') },
];

const HIT_COLUMNS: readonly Column<GuardTraceHit>[] = [
  { header: 'VM', value: (row) => row.vm },
  { header: 'EVENT', value: (row) => row.eventNumber, align: 'right' },
  { header: 'RULE', value: (row) => row.ruleId },
  { header: 'CVE', value: (row) => row.cves.join(',') },
  { header: 'ACTION', value: (row) => row.action },
  {
    header: 'TRIGGER',
    value: (row) => {
      const last = row.events[row.events.length - 1];
      return last === undefined
        ? '-'
        : `${last.space} ${last.direction} 0x${last.address.toString(16)} = 0x${last.value.toString(16)}`;
    },
  },
];

/** `vmsight guard`: the VM-escape knowledge base and its fast path. */
export function registerGuardCommand(program: Command): void {
  const guard = program
    .command('guard')
    .description('VM-escape guard: rules for known QEMU device escapes');
  guard
    .command('rules')
    .description(
      'list the escape rules with their CVEs and the QEMU sources they were checked against',
    )
    .option('--rules <dir>', 'rule directory (default: the shipped rules)')
    .option('--json', 'print JSON')
    .action(async (options: { rules?: string; json?: boolean }) => {
      const rules = await listGuardRules(options.rules);
      if (options.json === true) printJson(rules);
      else printTable(rules, RULE_COLUMNS);
    });
  guard
    .command('test')
    .description('run the rules over a recorded trace; exits 1 when a rule blocks or alerts')
    .requiredOption('--trace <file>', '.vmtrace.jsonl (or .zst) with port-io / mmio events')
    .option('--rules <dir>', 'rule directory (default: the shipped rules)')
    .option('--json', 'print JSON')
    .action(async (options: { trace: string; rules?: string; json?: boolean }) => {
      const report = await testGuardTrace({
        trace: options.trace,
        ...(options.rules === undefined ? {} : { rulesDir: options.rules }),
      });
      if (options.json === true) printJson(report);
      else {
        printTable(report.hits, HIT_COLUMNS);
        console.log(
          `${report.ioEvents} I/O events from ${report.vms} VM(s), ${report.hits.length} rule hit(s)`,
        );
      }
      if (report.hits.some((hit) => hit.action !== 'pass')) process.exitCode = 1;
    });
  guard
    .command('bench')
    .description('replay lab-shaped I/O streams as many VMs, with the guard and without it')
    .option('--vms <list>', 'comma-separated VM counts', '100,1000,10000')
    .option('--rounds <n>', 'windows per VM', '12')
    .option('--recorded', "replay the lab guest's recorded streams instead of synthetic ones")
    .option('--json', 'print JSON')
    .action(
      async (options: { vms: string; rounds: string; recorded?: boolean; json?: boolean }) => {
        const figures = await benchGuard({
          vms: options.vms.split(',').map(Number),
          rounds: Number(options.rounds),
          recorded: options.recorded === true,
        });
        if (options.json === true) {
          printJson(figures);
          return;
        }
        for (const f of figures) {
          console.log(
            `${f.mode.padEnd(6)} vms=${f.vms} windows=${f.windows} ${f.windowsPerSecond.toFixed(0)} windows/s engine_calls=${f.engineCalls} engine_ms=${f.engineBusyMs.toFixed(0)} ` +
              `cache=${(f.cacheShare * 100).toFixed(1)}% rules=${(f.ruleShare * 100).toFixed(1)}% shed=${f.shed} blocks=${f.blocks} ` +
              `escape_p50=${f.knownEscapeP50Ms.toFixed(2)}ms p99=${f.knownEscapeP99Ms.toFixed(2)}ms pause_p50=${f.pauseP50Ms.toFixed(2)}ms p99=${f.pauseP99Ms.toFixed(2)}ms rss=${f.rssMiB.toFixed(0)}MiB unaccounted=${f.unaccounted}`,
          );
        }
      },
    );
}
