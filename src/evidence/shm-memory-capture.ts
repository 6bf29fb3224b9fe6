import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { QmpClient } from '../connectors/index.js';
import { VmsightError } from '../core/index.js';
import { ramLayoutSegments } from '../layers/index.js';
import type { JsonObject } from './canonical-json.js';
import type { CaptureRecord, ImageSink } from './evidence-locker.js';
import { queryVmFacts } from './vm-facts.js';

export interface ShmCaptureOptions {
  readonly qmp: QmpClient;
  readonly vmName: string;
  /** The guest RAM file (`-object memory-backend-file,mem-path=/dev/shm/…,share=on`). */
  readonly ramPath: string;
  /** Bytes of the file mapped below 4 GiB; default the i440fx split (ram-layout.ts). */
  readonly belowFourGiB?: bigint;
  readonly identity?: JsonObject;
}

// ELF-64 object file format (System V gABI, "ELF-64 Object File Format" 1.5): sizes and values.
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const ET_CORE = 4;
const EM_X86_64 = 62;
const PT_LOAD = 1;
const PF_RWX = 7;

/**
 * An ELF core header for guest RAM laid out as `segments` (file offsets relative to the end of
 * the header), the same shape as QEMU's `dump-guest-memory` with `paging: false` minus its notes:
 * one PT_LOAD per RAM range, physical addresses in p_paddr, so `openElfCore` and every analysis
 * read either kind of image alike.
 */
function elfCoreHeader(
  segments: readonly { start: bigint; length: bigint; fileOffset: bigint }[],
): Buffer {
  const dataStart = BigInt(EHDR_SIZE + PHDR_SIZE * segments.length);
  const header = Buffer.alloc(Number(dataStart));
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT
  header.writeUInt16LE(ET_CORE, 16);
  header.writeUInt16LE(EM_X86_64, 18);
  header.writeUInt32LE(1, 20); // e_version
  header.writeBigUInt64LE(BigInt(EHDR_SIZE), 32); // e_phoff
  header.writeUInt16LE(EHDR_SIZE, 52); // e_ehsize
  header.writeUInt16LE(PHDR_SIZE, 54); // e_phentsize
  header.writeUInt16LE(segments.length, 56); // e_phnum
  segments.forEach((segment, i) => {
    const at = EHDR_SIZE + i * PHDR_SIZE;
    header.writeUInt32LE(PT_LOAD, at);
    header.writeUInt32LE(PF_RWX, at + 4);
    header.writeBigUInt64LE(dataStart + segment.fileOffset, at + 8); // p_offset
    header.writeBigUInt64LE(segment.start, at + 24); // p_paddr (p_vaddr 0, as QEMU without paging)
    header.writeBigUInt64LE(segment.length, at + 32); // p_filesz
    header.writeBigUInt64LE(segment.length, at + 40); // p_memsz
  });
  return header;
}

/**
 * A capture from the shared memory backend: the guest is paused (QMP stop) for the whole read, so
 * the image is one moment, then the RAM file is streamed behind an ELF core header into the sink:
 * no QEMU dump, no FIFO, only a sequential read of /dev/shm. The VM's configuration, identity and
 * registers are recorded as with `dump-guest-memory` (vm-facts.ts).
 */
export function shmMemoryCapture(
  options: ShmCaptureOptions,
): (sink: ImageSink) => Promise<CaptureRecord> {
  return async (sink) => {
    const { qmp } = options;
    const startedAt = new Date().toISOString();
    const size = await stat(options.ramPath).then(
      (info) => BigInt(info.size),
      (error: unknown) => {
        throw new VmsightError('NOT_FOUND', `Cannot read the guest RAM file "${options.ramPath}"`, {
          cause: error,
        });
      },
    );
    const before = await qmp.execute('query-status', {}, { timeoutMs: 10_000 });
    if (before.running) await qmp.execute('stop', {}, { timeoutMs: 10_000 });
    try {
      const facts = await queryVmFacts(qmp);
      const segments = ramLayoutSegments(size, 0n, options.belowFourGiB);
      const header = elfCoreHeader(segments);
      const image = async function* (): AsyncGenerator<Buffer> {
        yield header;
        for await (const chunk of createReadStream(options.ramPath, { highWaterMark: 1 << 20 })) {
          yield chunk as Buffer;
        }
      };
      const stored = await sink(image(), header.length + Number(size));
      if (BigInt(stored.contentSize) !== BigInt(header.length) + size) {
        throw new VmsightError(
          'IO_ERROR',
          `The guest RAM file "${options.ramPath}" changed size while it was read`,
        );
      }
      return {
        identity: { vm: options.vmName, ...facts.identity, ...(options.identity ?? {}) },
        config: { ...facts.config, registers: facts.registers },
        method: {
          command: 'shared-memory read',
          format: 'elf',
          paging: false,
          transport: 'memory-backend-file',
          pausedThroughout: true,
          statusBefore: before.status,
        },
        startedAt,
        finishedAt: new Date().toISOString(),
      };
    } finally {
      if (before.running)
        await qmp.execute('cont', {}, { timeoutMs: 10_000 }).catch(() => undefined);
    }
  };
}
