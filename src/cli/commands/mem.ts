import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { readGuestMemory, type MemoryReadResult } from '../../app/index.js';
import { VmsightError, hex, parseUnsigned } from '../../core/index.js';
import { printJson } from '../output.js';

function parseAddress(value: string): bigint {
  const parsed = parseUnsigned(value);
  if (parsed === undefined || parsed >= 1n << 64n) {
    throw new InvalidArgumentError('expected an address, decimal or 0x hex, below 2^64');
  }
  return parsed;
}

function parseLength(value: string): number {
  const parsed = parseUnsigned(value);
  if (parsed === undefined || parsed > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InvalidArgumentError('expected a byte count');
  }
  return Number(parsed);
}

/**
 * Classic 16-bytes-per-line hexdump: address (of the space read), bytes in two groups of eight,
 * printable ASCII.
 */
export function formatHexdump(bytes: Uint8Array, base: bigint): string {
  const width = Math.max(8, (base + BigInt(bytes.length)).toString(16).length);
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = bytes.subarray(offset, offset + 16);
    const cells = [...row].map((b) => b.toString(16).padStart(2, '0'));
    const left = cells.slice(0, 8).join(' ').padEnd(23);
    const right = cells.slice(8).join(' ').padEnd(23);
    const ascii = [...row]
      .map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.'))
      .join('');
    lines.push(
      `${(base + BigInt(offset)).toString(16).padStart(width, '0')}  ${left}  ${right}  |${ascii}|`,
    );
  }
  return lines.join('\n');
}

interface MemReadFlags {
  vm?: string;
  dump?: string;
  phys?: bigint;
  virt?: bigint;
  cr3?: bigint;
  len: number;
  output?: string;
  fillHoles?: boolean;
  json?: boolean;
}

/** `vmsight mem read`: a hexdump (or raw bytes with -o) of guest memory, live or from a dump. */
export function registerMemCommand(program: Command): void {
  const mem = program.command('mem').description('read guest memory, live or from a dump');
  mem
    .command('read')
    .description(
      'read guest memory by physical address, or by virtual address through the page tables',
    )
    .option('--vm <name>', 'a registered or lab VM (live RAM)')
    .option('--dump <file>', 'an ELF core from dump-guest-memory')
    .option('--phys <addr>', 'guest physical address', parseAddress)
    .option(
      '--virt <addr>',
      "guest virtual address (needs the page tables: --cr3, else the CPU's)",
      parseAddress,
    )
    .option('--cr3 <cr3>', "page-table root for --virt (default: vCPU 0's CR3)", parseAddress)
    .option('--len <n>', 'bytes to read', parseLength, 256)
    .option('-o, --output <file>', 'write the raw bytes to a file instead of a hexdump')
    .option('--fill-holes', 'read missing or unmapped memory as zeros instead of failing')
    .option('--json', 'print the result as JSON (bytes in hex)')
    .action(async (flags: MemReadFlags) => {
      if (flags.cr3 !== undefined && flags.virt === undefined) {
        throw new VmsightError('INVALID_ARGUMENT', '--cr3 only applies to --virt');
      }
      const result = await readGuestMemory({
        ...(flags.vm === undefined ? {} : { vm: flags.vm }),
        ...(flags.dump === undefined ? {} : { dump: flags.dump }),
        ...(flags.phys === undefined ? {} : { phys: flags.phys }),
        ...(flags.virt === undefined ? {} : { virt: flags.virt }),
        ...(flags.cr3 === undefined ? {} : { cr3: flags.cr3 }),
        length: flags.len,
        fillHoles: flags.fillHoles === true,
      });
      render(result, flags);
    });
}

function render(result: MemoryReadResult, flags: MemReadFlags): void {
  if (flags.output !== undefined) {
    writeFileSync(flags.output, result.bytes);
    if (flags.json !== true) {
      process.stderr.write(`${result.bytes.length} bytes written to ${flags.output}\n`);
      return;
    }
  }
  if (flags.json === true) {
    printJson({
      source: result.source,
      space: result.space,
      address: hex(result.address),
      ...(result.physical === undefined ? {} : { physical: hex(result.physical) }),
      ...(result.cr3 === undefined ? {} : { cr3: hex(result.cr3), pagingMode: result.pagingMode }),
      length: result.bytes.length,
      ...(flags.output === undefined ? { hex: Buffer.from(result.bytes).toString('hex') } : {}),
    });
    return;
  }
  if (result.space === 'virtual') {
    const physical = result.physical === undefined ? 'unmapped' : hex(result.physical);
    process.stdout.write(
      `# ${result.source}, virtual ${hex(result.address)} -> physical ${physical} (CR3 ${hex(result.cr3 ?? 0n)}, ${result.pagingMode} paging)\n`,
    );
  }
  process.stdout.write(`${formatHexdump(result.bytes, result.address)}\n`);
}
