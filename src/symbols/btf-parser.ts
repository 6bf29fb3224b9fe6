import { ByteReader, VmsightError } from '../core/index.js';
import {
  BtfKind,
  type BtfEnumerator,
  type BtfGraph,
  type BtfMember,
  type BtfParam,
  type BtfReference,
  type BtfType,
  type BtfVarSecinfo,
} from './btf-types.js';

export interface BtfLimits {
  /** Types read at most. Default 1,000,000 (the Debian 6.1 vmlinux has 100,751). */
  readonly maxTypes?: number;
  /** Members, enumerators, parameters or section variables per type. Default 65,535 (vlen is 16 bits). */
  readonly maxVlen?: number;
  /** Longest name, in bytes. Default 4,096 (KSYM_NAME_LEN is 512). */
  readonly maxNameLength?: number;
}

const BTF_MAGIC = 0xeb9f;
/** struct btf_header (btf.rst §2.1): magic, version, flags, hdr_len, then four u32 section bounds. */
const HEADER_MIN_LENGTH = 24;

function invalid(message: string, cause?: unknown): VmsightError {
  return new VmsightError('INVALID_INPUT', `Cannot parse BTF: ${message}`, {
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Parses a raw BTF blob (the `.BTF` section of vmlinux, or `/sys/kernel/btf/vmlinux`) into the whole
 * type graph. Lengths and counts in the blob are untrusted: each is checked against the blob and
 * against `limits` before anything is allocated for it.
 *
 * @example
 * ```ts
 * import { parseBtf } from './btf-parser.js';
 * declare const blob: Uint8Array;
 * const btf = parseBtf(blob);
 * const id = btf.findByName('task_struct', 'struct');
 * ```
 */
export function parseBtf(blob: Uint8Array, limits: BtfLimits = {}): BtfGraph {
  const maxTypes = limits.maxTypes ?? 1_000_000;
  const maxVlen = limits.maxVlen ?? 65_535;
  const maxNameLength = limits.maxNameLength ?? 4096;
  try {
    const header = new ByteReader(blob);
    if (blob.length < HEADER_MIN_LENGTH) throw invalid(`the blob holds only ${blob.length} bytes`);
    const magic = header.u16le();
    if (magic !== BTF_MAGIC) throw invalid(`bad magic 0x${magic.toString(16)}`);
    const version = header.u8();
    if (version !== 1) throw invalid(`version ${version} is not supported`);
    header.u8(); // flags
    const hdrLen = header.u32le();
    const typeOff = header.u32le();
    const typeLen = header.u32le();
    const strOff = header.u32le();
    const strLen = header.u32le();
    // Section offsets are relative to the end of the header (btf.rst §2.1).
    const typeStart = hdrLen + typeOff;
    const strStart = hdrLen + strOff;
    if (hdrLen < HEADER_MIN_LENGTH || typeStart + typeLen > blob.length) {
      throw invalid(`the type section (${typeLen} bytes at ${typeStart}) ends past the blob`);
    }
    if (strStart + strLen > blob.length) {
      throw invalid(`the string section (${strLen} bytes at ${strStart}) ends past the blob`);
    }
    const strings = blob.subarray(strStart, strStart + strLen);
    const names = new Map<number, string>();
    const name = (offset: number): string => {
      if (offset === 0) return '';
      const cached = names.get(offset);
      if (cached !== undefined) return cached;
      if (offset >= strings.length)
        throw invalid(`name offset ${offset} is past the string section`);
      let end = strings.indexOf(0, offset);
      if (end < 0) end = strings.length;
      if (end - offset > maxNameLength) {
        throw new VmsightError(
          'LIMIT_EXCEEDED',
          `Cannot parse BTF: the name at offset ${offset} is longer than ${maxNameLength} bytes`,
        );
      }
      const text = Buffer.from(strings.buffer, strings.byteOffset + offset, end - offset).toString(
        'latin1',
      );
      names.set(offset, text);
      return text;
    };
    const reader = new ByteReader(blob.subarray(typeStart, typeStart + typeLen));
    const types: BtfType[] = [{ kind: 'void', name: '' }];
    while (reader.remaining > 0) {
      if (types.length > maxTypes) {
        throw new VmsightError('LIMIT_EXCEEDED', `Cannot parse BTF: more than ${maxTypes} types`);
      }
      types.push(readType(reader, name, maxVlen, types.length));
    }
    return makeGraph(types);
  } catch (error) {
    if (error instanceof RangeError) throw invalid(`the type section is cut short`, error);
    throw error;
  }
}

/** The kinds whose btf_type is all there is: size|type holds the id of the type referred to. */
const REFERENCE_KINDS: Readonly<Partial<Record<number, BtfReference['kind']>>> = {
  [BtfKind.PTR]: 'ptr',
  [BtfKind.TYPEDEF]: 'typedef',
  [BtfKind.VOLATILE]: 'volatile',
  [BtfKind.CONST]: 'const',
  [BtfKind.RESTRICT]: 'restrict',
  [BtfKind.TYPE_TAG]: 'type_tag',
};

function readType(
  reader: ByteReader,
  name: (offset: number) => string,
  maxVlen: number,
  id: number,
): BtfType {
  // struct btf_type: name_off; info (vlen bits 0-15, kind bits 24-28, kind_flag bit 31); size|type
  const nameOff = reader.u32le();
  const info = reader.u32le();
  const sizeOrType = reader.u32le();
  const vlen = info & 0xffff;
  const kind = (info >>> 24) & 0x1f;
  const kindFlag = info >>> 31 === 1;
  if (vlen > maxVlen) {
    throw new VmsightError(
      'LIMIT_EXCEEDED',
      `Cannot parse BTF: type ${id} has ${vlen} entries, more than ${maxVlen}`,
    );
  }
  const typeName = name(nameOff);
  const reference = REFERENCE_KINDS[kind];
  if (reference !== undefined) return { kind: reference, name: typeName, type: sizeOrType };
  switch (kind) {
    case BtfKind.INT: {
      // u32 after btf_type: encoding bits 24-27, offset bits 16-23, nr_bits bits 0-7
      const word = reader.u32le();
      const encoding = (word >>> 24) & 0x0f;
      return {
        kind: 'int',
        name: typeName,
        size: sizeOrType,
        signed: (encoding & 1) !== 0,
        char: (encoding & 2) !== 0,
        bool: (encoding & 4) !== 0,
        bitOffset: (word >>> 16) & 0xff,
        bits: word & 0xff,
      };
    }
    case BtfKind.ARRAY: {
      // struct btf_array { type; index_type; nelems }
      const type = reader.u32le();
      const indexType = reader.u32le();
      const count = reader.u32le();
      return { kind: 'array', name: '', type, indexType, count };
    }
    case BtfKind.STRUCT:
    case BtfKind.UNION: {
      // vlen x struct btf_member { name_off; type; offset }; with kind_flag the offset holds
      // bitfield_size (bits 24-31) and bit_offset (bits 0-23)
      const members: BtfMember[] = [];
      for (let i = 0; i < vlen; i += 1) {
        const memberName = name(reader.u32le());
        const type = reader.u32le();
        const offset = reader.u32le();
        members.push({
          name: memberName,
          type,
          bitOffset: kindFlag ? offset & 0xffffff : offset,
          bitfieldSize: kindFlag ? offset >>> 24 : 0,
        });
      }
      return {
        kind: kind === BtfKind.STRUCT ? 'struct' : 'union',
        name: typeName,
        size: sizeOrType,
        members,
      };
    }
    case BtfKind.ENUM: {
      // vlen x struct btf_enum { name_off; s32 val }; kind_flag: signed values
      const values: BtfEnumerator[] = [];
      for (let i = 0; i < vlen; i += 1) {
        const valueName = name(reader.u32le());
        const raw = reader.u32le();
        values.push({ name: valueName, value: BigInt(kindFlag ? raw | 0 : raw) });
      }
      return { kind: 'enum', name: typeName, size: sizeOrType, signed: kindFlag, values };
    }
    case BtfKind.ENUM64: {
      // vlen x struct btf_enum64 { name_off; val_lo32; val_hi32 }
      const values: BtfEnumerator[] = [];
      for (let i = 0; i < vlen; i += 1) {
        const valueName = name(reader.u32le());
        const lo = BigInt(reader.u32le());
        const hi = BigInt(reader.u32le());
        const unsigned = (hi << 32n) | lo;
        values.push({ name: valueName, value: kindFlag ? BigInt.asIntN(64, unsigned) : unsigned });
      }
      return { kind: 'enum64', name: typeName, size: sizeOrType, signed: kindFlag, values };
    }
    case BtfKind.FWD:
      return { kind: 'fwd', name: typeName, union: kindFlag };
    case BtfKind.FUNC:
      return { kind: 'func', name: typeName, type: sizeOrType, linkage: vlen };
    case BtfKind.FUNC_PROTO: {
      // vlen x struct btf_param { name_off; type }
      const params: BtfParam[] = [];
      for (let i = 0; i < vlen; i += 1) {
        params.push({ name: name(reader.u32le()), type: reader.u32le() });
      }
      return { kind: 'func_proto', name: '', returnType: sizeOrType, params };
    }
    case BtfKind.VAR:
      // struct btf_var { linkage }
      return { kind: 'var', name: typeName, type: sizeOrType, linkage: reader.u32le() };
    case BtfKind.DATASEC: {
      // vlen x struct btf_var_secinfo { type; offset; size }
      const vars: BtfVarSecinfo[] = [];
      for (let i = 0; i < vlen; i += 1) {
        vars.push({ type: reader.u32le(), offset: reader.u32le(), size: reader.u32le() });
      }
      return { kind: 'datasec', name: typeName, size: sizeOrType, vars };
    }
    case BtfKind.FLOAT:
      return { kind: 'float', name: typeName, size: sizeOrType };
    case BtfKind.DECL_TAG:
      // struct btf_decl_tag { s32 component_idx }
      return {
        kind: 'decl_tag',
        name: typeName,
        type: sizeOrType,
        componentIndex: reader.i32le(),
      };
    default:
      throw invalid(`type ${id} has unknown kind ${kind}`);
  }
}

function makeGraph(types: readonly BtfType[]): BtfGraph {
  const byName = new Map<string, number[]>();
  for (let id = 1; id < types.length; id += 1) {
    const type = types[id];
    if (type === undefined || type.name === '') continue;
    const list = byName.get(type.name);
    if (list === undefined) byName.set(type.name, [id]);
    else list.push(id);
  }
  return {
    types,
    findByName(name, kind) {
      const ids = byName.get(name);
      if (ids === undefined) return undefined;
      return kind === undefined ? ids[0] : ids.find((id) => types[id]?.kind === kind);
    },
  };
}
