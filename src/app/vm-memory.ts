import { existsSync } from 'node:fs';
import { QmpClient } from '../connectors/index.js';
import { VmsightError } from '../core/index.js';
import { openProcMemLayer, openRawLayer, type PhysicalLayer } from '../layers/index.js';
import type { VmDescriptor } from './vm-registry.js';

/**
 * A running VM's guest RAM, read while it runs: its RAM file (`memory-backend-file`, registered
 * with `--ram` or a lab VM's), else its QEMU's address space through `/proc/PID/mem` (`--pid`),
 * sized by QMP `query-memdev` when the registry does not know the size.
 *
 * @param qmp An open connection to the VM, used for the size query instead of connecting: a VM's
 *   QMP socket takes one client at a time, and `watch` holds it.
 */
export async function openVmMemory(vm: VmDescriptor, qmp?: QmpClient): Promise<PhysicalLayer> {
  if (vm.ramPath !== undefined && existsSync(vm.ramPath)) {
    return openRawLayer(vm.ramPath, { cache: false, ram: true });
  }
  if (vm.pid !== undefined) {
    const ramSize = vm.memoryBytes ?? (await queryRamSize(vm.qmpSocket, qmp));
    return openProcMemLayer({ pid: vm.pid, ramSize: BigInt(ramSize) });
  }
  throw new VmsightError(
    'INVALID_ARGUMENT',
    `Cannot read the memory of VM "${vm.name}": register it with --ram FILE or --pid PID`,
  );
}

/** Total size of the VM's memory backends (QMP `query-memdev`, qapi/machine.json). */
async function queryRamSize(qmpSocket: string, open: QmpClient | undefined): Promise<number> {
  const qmp = open ?? (await QmpClient.connect(qmpSocket));
  try {
    const memdevs = await qmp.execute<readonly { size?: number }[]>('query-memdev');
    const total = memdevs.reduce((sum, dev) => sum + (dev.size ?? 0), 0);
    if (total <= 0)
      throw new VmsightError('NOT_FOUND', `QMP "query-memdev" on "${qmpSocket}" lists no memory`);
    return total;
  } finally {
    if (qmp !== open) await qmp.close();
  }
}
