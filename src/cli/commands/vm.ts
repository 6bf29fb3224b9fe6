import { InvalidArgumentError, type Command } from 'commander';
import {
  addVm,
  listRegisteredVms,
  removeVm,
  resolveVm,
  type VmDescriptor,
} from '../../app/index.js';
import { printJson, printTable, type Column } from '../output.js';

function parsePid(value: string): number {
  const pid = Number(value);
  if (!Number.isSafeInteger(pid) || pid <= 0)
    throw new InvalidArgumentError('expected a process id');
  return pid;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new InvalidArgumentError('expected a TCP port (1-65535)');
  return port;
}

const COLUMNS: readonly Column<VmDescriptor>[] = [
  { header: 'NAME', value: (vm) => vm.name },
  { header: 'SOURCE', value: (vm) => vm.source },
  { header: 'QMP', value: (vm) => vm.qmpSocket },
  {
    header: 'RAM',
    value: (vm) => vm.ramPath ?? (vm.pid === undefined ? '-' : `/proc/${vm.pid}/mem`),
  },
];

/** `vmsight vm add|list|remove|show`: QEMU VMs that vmsight did not start, for `--vm NAME`. */
export function registerVmCommand(program: Command): void {
  const vm = program.command('vm').description('register QEMU VMs that vmsight did not start');

  vm.command('add')
    .description('register a running QEMU by its QMP socket (checked by connecting)')
    .argument('<name>', 'name later commands use with --vm')
    .requiredOption('--qmp <socket>', 'QMP unix socket of the QEMU')
    .option('--ram <file>', 'guest RAM file (memory-backend-file mem-path)')
    .option('--pid <pid>', 'QEMU process id (RAM read through /proc/<pid>/mem)', parsePid)
    .option(
      '--gdb-port <port>',
      'TCP port of its gdbstub on 127.0.0.1 (-gdb), for watch --sensor gdb; without it watch opens one through QMP',
      parsePort,
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (
        name: string,
        options: { qmp: string; ram?: string; pid?: number; gdbPort?: number; json?: boolean },
      ) => {
        const added = await addVm(name, {
          qmpSocket: options.qmp,
          ...(options.ram === undefined ? {} : { ramPath: options.ram }),
          ...(options.pid === undefined ? {} : { pid: options.pid }),
          ...(options.gdbPort === undefined ? {} : { gdbPort: options.gdbPort }),
        });
        if (options.json === true) printJson(added);
        else process.stdout.write(`VM "${added.name}" registered (QMP ${added.qmpSocket})\n`);
      },
    );

  vm.command('list')
    .description('list registered VMs')
    .option('--json', 'print the result as JSON')
    .action(async (options: { json?: boolean }) => {
      const vms = await listRegisteredVms();
      if (options.json === true) printJson(vms);
      else if (vms.length === 0) process.stdout.write('No registered VMs\n');
      else printTable(vms, COLUMNS);
    });

  vm.command('show')
    .description('show what --vm NAME resolves to (registered or lab VM)')
    .argument('<name>')
    .action(async (name: string) => {
      printJson(await resolveVm(name));
    });

  vm.command('remove')
    .description('forget a registered VM')
    .argument('<name>')
    .action(async (name: string) => {
      await removeVm(name);
      process.stdout.write(`VM "${name}" removed\n`);
    });
}
