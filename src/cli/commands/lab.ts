import { InvalidArgumentError, type Command } from 'commander';
import { buildLab, labDown, labStatus, labUp, type LabVmSummary } from '../../app/index.js';
import { createLogger } from '../../core/index.js';
import { printJson, printTable, type Column } from '../output.js';

function parseAccel(value: string): 'tcg' | 'kvm' {
  if (value !== 'tcg' && value !== 'kvm') throw new InvalidArgumentError('expected "tcg" or "kvm"');
  return value;
}

const MIB = 2 ** 20;

const STATUS_COLUMNS: readonly Column<LabVmSummary>[] = [
  { header: 'NAME', value: (vm) => vm.name },
  { header: 'STATE', value: (vm) => vm.state },
  { header: 'PID', value: (vm) => vm.pid, align: 'right' },
  { header: 'MEM', value: (vm) => `${vm.memoryBytes / MIB}M`, align: 'right' },
  { header: 'KERNEL', value: (vm) => vm.kernelVersion },
  { header: 'GDB', value: (vm) => (vm.gdbPort === undefined ? '-' : vm.gdbPort) },
  { header: 'QMP', value: (vm) => vm.qmpSocket },
  { header: 'RAM', value: (vm) => vm.ramPath },
];

/** `vmsight lab build|up|down|status`: the bundled real guest (ARCHITECTURE.md "The lab guest"). */
export function registerLabCommand(program: Command): void {
  const lab = program
    .command('lab')
    .description('build and run the bundled real Linux guest under QEMU');
  const log = createLogger();

  lab
    .command('build')
    .description('build the lab guest from Debian packages (cached under .vmsight/lab/)')
    .option('--install', 'as root, apt-get install the host packages first')
    .option('--json', 'print the result as JSON')
    .action(async (options: { install?: boolean; json?: boolean }) => {
      const result = await buildLab({ install: options.install === true, log });
      if (options.json === true) printJson(result);
      else
        process.stdout.write(
          `Lab guest ${result.kernelVersion} ready in ${result.dir} (${result.elapsedMs} ms)\n`,
        );
    });

  lab
    .command('up')
    .description('boot a lab VM and wait for GUEST-READY')
    .option('--name <name>', 'VM name', 'lab')
    .option('--workload <file>', 'shell script the guest runs after GUEST-READY')
    .option('--mem <size>', 'guest RAM', '256M')
    .option('--kaslr', 'boot the bzImage with KASLR')
    .option('--la57', '5-level paging (bzImage with -cpu max)')
    .option('--gdb', 'open a gdbstub on a free 127.0.0.1 port')
    .option(
      '--tcg-sensor',
      'boot with the TCG sensor probes so "vmsight watch" can capture syscalls (with --kaslr: the running guest moves to a QEMU with this boot\'s addresses)',
    )
    .option(
      '--accel <accel>',
      'tcg or kvm (KVM cannot boot a stock kernel on kvm_pvm hosts)',
      parseAccel,
      'tcg',
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (options: {
        name: string;
        workload?: string;
        mem: string;
        kaslr?: boolean;
        la57?: boolean;
        gdb?: boolean;
        tcgSensor?: boolean;
        accel: 'tcg' | 'kvm';
        json?: boolean;
      }) => {
        const vm = await labUp({
          name: options.name,
          memory: options.mem,
          kaslr: options.kaslr === true,
          la57: options.la57 === true,
          gdb: options.gdb === true,
          tcgSensor: options.tcgSensor === true,
          accel: options.accel,
          log,
          ...(options.workload === undefined ? {} : { workloadFile: options.workload }),
        });
        if (options.json === true) printJson(vm);
        else {
          process.stdout.write(
            `Lab VM "${vm.name}" is up (pid ${vm.pid}, GUEST-READY after ${vm.bootMs ?? 0} ms)\n` +
              `  QMP socket  ${vm.qmpSocket}\n  guest RAM   ${vm.ramPath}\n  serial log  ${vm.serialPath}\n` +
              (vm.gdbPort === undefined ? '' : `  gdbstub     127.0.0.1:${vm.gdbPort}\n`),
          );
        }
      },
    );

  lab
    .command('down')
    .description('power a lab VM off (ACPI, then kill after a timeout) and remove its files')
    .option('--name <name>', 'VM name', 'lab')
    .option('--all', 'every lab VM')
    .option('--json', 'print the result as JSON')
    .action(async (options: { name: string; all?: boolean; json?: boolean }) => {
      const results = await labDown({ name: options.name, all: options.all === true, log });
      if (options.json === true) printJson(results);
      else
        for (const r of results) process.stdout.write(`Lab VM "${r.name}" stopped (${r.method})\n`);
    });

  lab
    .command('status')
    .description('list lab VMs and whether their QEMU still runs')
    .option('--json', 'print the result as JSON')
    .action(async (options: { json?: boolean }) => {
      const vms = await labStatus();
      if (options.json === true) printJson(vms);
      else if (vms.length === 0) process.stdout.write('No lab VMs\n');
      else printTable(vms, STATUS_COLUMNS);
    });
}
