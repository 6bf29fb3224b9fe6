/**
 * Writes small x86-64 ELF cores byte by byte, shaped like QEMU `dump-guest-memory` output (notes
 * first, then PT_LOAD segments by physical address), for the reader's tests. Provenance: built from
 * the gABI field layout, not copied from a real dump.
 */
export interface CoreNoteSpec {
  readonly name: string;
  readonly type: number;
  readonly desc: Uint8Array;
}

export interface CoreLoadSpec {
  readonly paddr: bigint;
  readonly bytes: Uint8Array;
  /** p_memsz when larger than the bytes. */
  readonly memsz?: bigint;
}

const align4 = (n: number): number => (n + 3) & ~3;

export function encodeNotes(notes: readonly CoreNoteSpec[]): Uint8Array {
  const parts: number[] = [];
  for (const note of notes) {
    const name = [...Buffer.from(`${note.name}\0`, 'latin1')];
    const head = Buffer.alloc(12);
    head.writeUInt32LE(name.length, 0);
    head.writeUInt32LE(note.desc.length, 4);
    head.writeUInt32LE(note.type, 8);
    parts.push(...head, ...name, ...new Array<number>(align4(name.length) - name.length).fill(0));
    parts.push(
      ...note.desc,
      ...new Array<number>(align4(note.desc.length) - note.desc.length).fill(0),
    );
  }
  return Uint8Array.from(parts);
}

export function buildElfCore(options: {
  notes?: readonly CoreNoteSpec[];
  loads: readonly CoreLoadSpec[];
  /** Force extended numbering (PN_XNUM) and pad with this many empty PT_NULL headers. */
  extraNullHeaders?: number;
  forceXnum?: boolean;
}): Uint8Array {
  const noteBytes = encodeNotes(options.notes ?? []);
  const phnum = 1 + options.loads.length + (options.extraNullHeaders ?? 0);
  const xnum = options.forceXnum === true || phnum >= 0xffff;
  const phoff = 64;
  const shoff = phoff + phnum * 56;
  let dataOffset = shoff + (xnum ? 64 : 0);
  const header = Buffer.alloc(dataOffset);
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  header.writeUInt16LE(4, 16); // ET_CORE
  header.writeUInt16LE(62, 18); // EM_X86_64
  header.writeUInt32LE(1, 20);
  header.writeBigUInt64LE(BigInt(phoff), 32);
  header.writeBigUInt64LE(xnum ? BigInt(shoff) : 0n, 40);
  header.writeUInt16LE(64, 52);
  header.writeUInt16LE(56, 54);
  header.writeUInt16LE(xnum ? 0xffff : phnum, 56);
  header.writeUInt16LE(64, 58);
  header.writeUInt16LE(xnum ? 1 : 0, 60);
  if (xnum) header.writeUInt32LE(phnum, shoff + 44); // sh_info of section header 0
  const chunks: Uint8Array[] = [header];
  const writePh = (
    index: number,
    type: number,
    offset: number,
    paddr: bigint,
    filesz: number,
    memsz: bigint,
  ): void => {
    const at = phoff + index * 56;
    header.writeUInt32LE(type, at);
    header.writeBigUInt64LE(BigInt(offset), at + 8);
    header.writeBigUInt64LE(paddr, at + 24);
    header.writeBigUInt64LE(BigInt(filesz), at + 32);
    header.writeBigUInt64LE(memsz, at + 40);
  };
  writePh(0, 4, dataOffset, 0n, noteBytes.length, BigInt(noteBytes.length));
  chunks.push(noteBytes);
  dataOffset += noteBytes.length;
  options.loads.forEach((load, i) => {
    writePh(
      1 + i,
      1,
      dataOffset,
      load.paddr,
      load.bytes.length,
      load.memsz ?? BigInt(load.bytes.length),
    );
    chunks.push(load.bytes);
    dataOffset += load.bytes.length;
  });
  return Buffer.concat(chunks);
}

/** A `QEMU` CPU-state note descriptor (440 bytes, with kernel_gs_base) holding these values. */
export function qemuCpuStateDesc(values: {
  rip: bigint;
  cr3: bigint;
  cr4: bigint;
  kgs: bigint;
}): Uint8Array {
  const desc = Buffer.alloc(440);
  desc.writeUInt32LE(1, 0);
  desc.writeUInt32LE(440, 4);
  desc.writeBigUInt64LE(values.rip, 136);
  desc.writeBigUInt64LE(values.cr3, 416);
  desc.writeBigUInt64LE(values.cr4, 424);
  desc.writeBigUInt64LE(values.kgs, 432);
  return desc;
}
