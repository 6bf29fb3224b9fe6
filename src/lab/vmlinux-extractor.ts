import { readFile, rename, rm, stat } from 'node:fs/promises';
import { ByteReader, VmsightError } from '../core/index.js';
import { readElfSummary } from '../layers/index.js';
import { runHostCommand } from './host-command.js';

/**
 * Offsets in the x86 boot protocol's setup header (Documentation/arch/x86/boot.rst, "The Real-Mode
 * Kernel Header"). `payload_offset` counts from the start of the protected-mode code, which follows
 * the (setup_sects + 1) 512-byte sectors of real-mode setup; setup_sects 0 means 4.
 */
const SETUP_HEADER = {
  setupSects: 0x1f1,
  magic: 0x202,
  version: 0x206,
  payloadOffset: 0x248,
  payloadLength: 0x24c,
} as const;
const HDRS_MAGIC = 0x53726448; // "HdrS" read little-endian
const MIN_PAYLOAD_PROTOCOL = 0x0208;

/** Compressed-payload formats by their magic, and the host command that decompresses each. */
export const PAYLOAD_FORMATS = [
  {
    name: 'xz',
    magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
    command: 'xz',
    args: ['-dc', '--single-stream'],
  },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], command: 'zstd', args: ['-dcq'] },
  { name: 'gzip', magic: [0x1f, 0x8b], command: 'gzip', args: ['-dc'] },
] as const;

export interface BzImagePayload {
  readonly format: (typeof PAYLOAD_FORMATS)[number];
  /** The compressed stream, without the 4-byte decompressed size the kernel build appends. */
  readonly data: Uint8Array;
  /** Decompressed size from that trailer (arch/x86/boot/compressed: `*_with_size` commands). */
  readonly decompressedSize: number;
}

function invalid(path: string, reason: string): VmsightError {
  return new VmsightError('INVALID_INPUT', `Cannot extract vmlinux from "${path}": ${reason}`, {
    details: { path },
  });
}

/** Locates the compressed kernel inside a bzImage from its setup header, and checks its magic. */
export function findBzImagePayload(image: Uint8Array, path = 'bzImage'): BzImagePayload {
  try {
    const reader = new ByteReader(image);
    if (reader.seek(SETUP_HEADER.magic).u32le() !== HDRS_MAGIC)
      throw invalid(path, 'no "HdrS" boot header');
    const version = reader.seek(SETUP_HEADER.version).u16le();
    if (version < MIN_PAYLOAD_PROTOCOL)
      throw invalid(path, `boot protocol 0x${version.toString(16)} has no payload fields`);
    const setupSects = reader.seek(SETUP_HEADER.setupSects).u8() || 4;
    const start = (setupSects + 1) * 512 + reader.seek(SETUP_HEADER.payloadOffset).u32le();
    const length = reader.seek(SETUP_HEADER.payloadLength).u32le();
    if (length < 8 || start + length > image.length) {
      throw invalid(path, `the payload (${length} bytes at ${start}) lies outside the file`);
    }
    const payload = image.subarray(start, start + length);
    const format = PAYLOAD_FORMATS.find((f) =>
      f.magic.every((byte, index) => payload[index] === byte),
    );
    if (format === undefined) {
      const head = Buffer.from(payload.subarray(0, 6)).toString('hex');
      throw invalid(
        path,
        `unsupported payload compression (magic ${head}): vmsight handles xz, zstd and gzip`,
      );
    }
    return {
      format,
      data: payload.subarray(0, length - 4),
      decompressedSize: new ByteReader(payload, length - 4).u32le(),
    };
  } catch (error) {
    if (error instanceof RangeError) throw invalid(path, error.message);
    throw error;
  }
}

/**
 * Writes the uncompressed vmlinux ELF of a bzImage to `outPath` (Node has no xz, so the host's
 * decompressor runs as a child process) and returns its section names. Fails unless the result is
 * an ELF of the size the trailer announced.
 */
export async function extractVmlinux(
  bzImagePath: string,
  outPath: string,
): Promise<readonly string[]> {
  const payload = findBzImagePayload(await readFile(bzImagePath), bzImagePath);
  const partial = `${outPath}.partial`;
  try {
    await runHostCommand(payload.format.command, [...payload.format.args], {
      input: payload.data,
      stdoutFile: partial,
    });
    const { size } = await stat(partial);
    // The trailer is the size modulo 2^32; kernels are far below 4 GiB.
    if (size !== payload.decompressedSize) {
      throw invalid(
        bzImagePath,
        `decompressed ${size} bytes, the image announces ${payload.decompressedSize}`,
      );
    }
    const { sections } = await readElfSummary(partial);
    await rename(partial, outPath);
    return sections.map((s) => s.name);
  } finally {
    await rm(partial, { force: true });
  }
}
