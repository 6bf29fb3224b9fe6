import { InvalidArgumentError, type Command } from 'commander';
import { runPs, type PsPluginName, type PsResult } from '../../app/index.js';
import { hex } from '../../core/index.js';
import { printJson, printTable, type Column } from '../output.js';

interface PsFlags {
  vm?: string;
  dump?: string;
  kernel?: string;
  isf?: string;
  json?: boolean;
  tree?: boolean;
  threads?: boolean;
  plugin?: PsPluginName;
  pause?: boolean;
  cache?: boolean;
  pid?: number;
}

const PLUGINS: readonly PsPluginName[] = [
  'pslist',
  'psaux',
  'pstree',
  'lsmod',
  'psxview',
  'maps',
  'lsof',
  'sockstat',
];

function parsePid(value: string): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) > 0x7fff_ffff) {
    throw new InvalidArgumentError('expected a process id');
  }
  return Number(value);
}

function parsePlugin(value: string): PsPluginName {
  const found = PLUGINS.find((name) => name === value);
  if (found === undefined) throw new InvalidArgumentError(`expected one of ${PLUGINS.join(', ')}`);
  return found;
}

function cell(value: unknown, hint: string | undefined): string | number | bigint {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'bigint') return hint === 'hex' ? hex(value) : value;
  if (typeof value === 'number') return hint === 'time' ? value.toFixed(2) : value;
  if (typeof value === 'string' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function render(result: PsResult, flags: PsFlags): void {
  if (flags.json === true) {
    printJson({
      source: result.source,
      kernel: result.kernel,
      plugin: result.plugin,
      rows: result.rows,
      warnings: result.warnings,
    });
    return;
  }
  const columns: Column<Record<string, unknown>>[] = result.columns.map((column) => ({
    header: column.name,
    value: (row) =>
      column.key === 'comm' && typeof row['depth'] === 'number'
        ? `${'  '.repeat(row['depth'])}${String(row['comm'])}`
        : cell(row[column.key], column.hint),
    align: column.type === 'string' ? 'left' : 'right',
  }));
  printTable(result.rows, columns);
  for (const warning of result.warnings) {
    process.stderr.write(`warning: ${warning.code}: ${warning.message}\n`);
  }
}

/** `vmsight ps`: the guest's processes from live RAM or a dump, no agent in the guest. */
export function registerPsCommand(program: Command): void {
  program
    .command('ps')
    .description(
      'list the guest processes (pslist, psaux, pstree), modules (lsmod), hidden processes (psxview), memory maps (maps), open files (lsof) or sockets (sockstat) from a VM or a dump',
    )
    .option('--vm <name>', 'a registered or lab VM (live RAM)')
    .option('--dump <file>', 'an ELF core from dump-guest-memory')
    .option('--kernel <vmlinux>', "the guest kernel's vmlinux (BTF); default: the lab kernel")
    .option('--isf <file>', 'a Volatility 3 ISF (.json or .json.xz) instead of BTF + kallsyms')
    .option('--plugin <name>', PLUGINS.join(', '), parsePlugin)
    .option('--pid <pid>', "only this process's rows", parsePid)
    .option('--tree', 'same as --plugin pstree')
    .option('--threads', 'list every thread, not only processes')
    .option('--pause', 'pause a live VM while reading it')
    .option('--no-cache', 'do not use or write the profile cache')
    .option('--json', 'print rows and warnings as JSON')
    .action(async (flags: PsFlags) => {
      const result = await runPs({
        vm: flags.vm,
        dump: flags.dump,
        kernel: flags.kernel,
        isf: flags.isf,
        plugin: flags.tree === true ? 'pstree' : (flags.plugin ?? 'pslist'),
        threads: flags.threads === true,
        pause: flags.pause === true,
        noCache: flags.cache === false,
        pid: flags.pid,
      });
      render(result, flags);
    });
}
