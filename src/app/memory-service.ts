import { QmpClient } from '../connectors/index.js';
import { VmsightError } from '../core/index.js';
import {
  MAX_READ_BYTES,
  PageTableWalker,
  VirtualLayer,
  openElfCore,
  pagingModeForCr4,
  type PhysicalLayer,
} from '../layers/index.js';
import { openVmMemory } from './vm-memory.js';
import { resolveVm } from './vm-registry.js';

export interface MemoryReadOptions {
  /** A VM known to `--vm NAME` (registered or a running lab VM). */
  readonly vm?: string;
  /** An ELF core from `dump-guest-memory`. */
  readonly dump?: string;
  /** A guest physical address. */
  readonly phys?: bigint;
  /** A guest virtual address, translated with `cr3`. */
  readonly virt?: bigint;
  /** Page-table root; default: the CPU's CR3 (the dump's QEMU note, or HMP `info registers`). */
  readonly cr3?: bigint;
  /** Bytes to read. Default 256. */
  readonly length?: number;
  /** Read holes and unmapped pages as zeros. */
  readonly fillHoles?: boolean;
}

export interface MemoryReadResult {
  readonly source: string;
  readonly space: 'physical' | 'virtual';
  readonly address: bigint;
  /** For virtual reads: the physical address of the first byte. */
  readonly physical?: bigint;
  readonly cr3?: bigint;
  readonly pagingMode?: string;
  readonly bytes: Uint8Array;
}

interface OpenedMemory {
  readonly layer: PhysicalLayer;
  readonly source: string;
  /** CR3 and CR4 of vCPU 0, read only when a virtual address needs them. */
  control(): Promise<{ cr3: bigint; cr4: bigint }>;
  close(): Promise<void>;
}

/**
 * `vmsight mem read`: bytes of guest memory by physical address, or by virtual address through the
 * guest's page tables, from a live VM (shared-memory RAM file, else `/proc/<pid>/mem`) or a dump.
 *
 * @example
 * ```ts
 * import { readGuestMemory } from './memory-service.js';
 * const result = await readGuestMemory({ dump: 'guest.elf', virt: 0xffffffff82a1b5e0n, length: 16 });
 * console.log(Buffer.from(result.bytes).toString('latin1')); // "swapper/0…"
 * ```
 */
export async function readGuestMemory(options: MemoryReadOptions): Promise<MemoryReadResult> {
  const length = options.length ?? 256;
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_READ_BYTES) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Length ${length} is not between 0 and ${MAX_READ_BYTES}`,
    );
  }
  if ((options.vm === undefined) === (options.dump === undefined)) {
    throw new VmsightError('INVALID_ARGUMENT', 'Give exactly one of --vm and --dump');
  }
  if ((options.phys === undefined) === (options.virt === undefined)) {
    throw new VmsightError('INVALID_ARGUMENT', 'Give exactly one of --phys and --virt');
  }
  const memory =
    options.dump !== undefined ? openDump(options.dump) : await openVm(options.vm ?? '');
  try {
    const readOptions = { fillHoles: options.fillHoles === true };
    if (options.phys !== undefined) {
      return {
        source: memory.source,
        space: 'physical',
        address: options.phys,
        bytes: memory.layer.read(options.phys, length, readOptions),
      };
    }
    const virt = options.virt ?? 0n;
    const control = await memory.control();
    const cr3 = options.cr3 ?? control.cr3;
    const mode = pagingModeForCr4(control.cr4);
    const space = new VirtualLayer(new PageTableWalker(memory.layer, mode), cr3);
    const first = space.translate(virt);
    return {
      source: memory.source,
      space: 'virtual',
      address: virt,
      ...(first.ok ? { physical: first.physical } : {}),
      cr3,
      pagingMode: mode.name,
      bytes: space.read(virt, length, readOptions),
    };
  } finally {
    await memory.close();
  }
}

function openDump(path: string): OpenedMemory {
  const core = openElfCore(path);
  return {
    layer: core.layer,
    source: `dump "${path}"`,
    control: () => {
      const cpu = core.cpus[0];
      if (cpu === undefined) {
        return Promise.reject(
          new VmsightError(
            'INVALID_INPUT',
            `Dump "${path}" has no QEMU CPU-state note: give --cr3`,
          ),
        );
      }
      return Promise.resolve({ cr3: cpu.cr3, cr4: cpu.cr4 });
    },
    close: () => {
      core.close();
      return Promise.resolve();
    },
  };
}

async function openVm(name: string): Promise<OpenedMemory> {
  const vm = await resolveVm(name);
  const layer = await openVmMemory(vm);
  return {
    layer,
    source: `VM "${name}"`,
    control: async () => {
      const qmp = await QmpClient.connect(vm.qmpSocket);
      try {
        const text = await qmp.hmp('info registers');
        const cr3 = /CR3=([0-9a-f]+)/i.exec(text)?.[1];
        const cr4 = /CR4=([0-9a-f]+)/i.exec(text)?.[1];
        if (cr3 === undefined || cr4 === undefined) {
          throw new VmsightError(
            'INVALID_INPUT',
            `HMP "info registers" of VM "${name}" shows no CR3 and CR4`,
          );
        }
        return { cr3: BigInt(`0x${cr3}`), cr4: BigInt(`0x${cr4}`) };
      } finally {
        await qmp.close();
      }
    },
    close: () => {
      layer.close();
      return Promise.resolve();
    },
  };
}
