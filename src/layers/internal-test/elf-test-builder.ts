/**
 * Builds minimal ELF64 little-endian files with named sections, for tests of code that reads
 * kernel images and modules. Test-only: other folders' tests reach it through internal.ts. Layout: header,
 * section contents, the section name table, then the section headers (index 0 is the null
 * section, as the gABI requires).
 */
export function buildTestElf(
  sections: Readonly<Record<string, Uint8Array | string>>,
  options: { interpreter?: boolean } = {},
): Buffer {
  const names = ['', ...Object.keys(sections), '.shstrtab'];
  const nameOffsets: number[] = [];
  let strtab = '';
  for (const name of names) {
    nameOffsets.push(strtab.length);
    strtab += `${name}\0`;
  }
  const contents = [
    ...Object.values(sections).map((v) => Buffer.from(v)),
    Buffer.from(strtab, 'latin1'),
  ];
  const phnum = options.interpreter === true ? 1 : 0;
  let offset = 64 + phnum * 56;
  const offsets = contents.map((c) => {
    const at = offset;
    offset += c.length;
    return at;
  });
  const shoff = offset;
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // ELFCLASS64
  header[5] = 1; // ELFDATA2LSB
  header[6] = 1;
  header.writeBigUInt64LE(64n, 0x20); // e_phoff
  header.writeBigUInt64LE(BigInt(shoff), 0x28);
  header.writeUInt16LE(56, 0x36);
  header.writeUInt16LE(phnum, 0x38);
  header.writeUInt16LE(64, 0x3a);
  header.writeUInt16LE(names.length, 0x3c);
  header.writeUInt16LE(names.length - 1, 0x3e);
  const program = Buffer.alloc(phnum * 56);
  if (phnum === 1) program.writeUInt32LE(3, 0); // PT_INTERP
  const table = Buffer.alloc(names.length * 64);
  contents.forEach((content, index) => {
    const base = (index + 1) * 64;
    table.writeUInt32LE(nameOffsets[index + 1] ?? 0, base);
    table.writeUInt32LE(1, base + 4);
    table.writeBigUInt64LE(BigInt(offsets[index] ?? 0), base + 0x18);
    table.writeBigUInt64LE(BigInt(content.length), base + 0x20);
  });
  return Buffer.concat([header, program, ...contents, table]);
}
