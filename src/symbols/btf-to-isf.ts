import { createHash } from 'node:crypto';
import type { BtfComposite, BtfEnum, BtfGraph, BtfType } from './btf-types.js';
import type {
  IsfBaseType,
  IsfEnum,
  IsfField,
  IsfTypeDescriptor,
  IsfUserType,
} from './isf-types.js';

export interface IsfTypes {
  readonly base_types: Record<string, IsfBaseType>;
  readonly user_types: Record<string, IsfUserType>;
  readonly enums: Record<string, IsfEnum>;
}

/** Qualifier chains deeper than this are a malformed (cyclic) graph. */
const MAX_CHAIN = 64;

const ENUM_BASE: Readonly<Record<number, readonly [string, string]>> = {
  1: ['unsigned char', 'signed char'],
  2: ['short unsigned int', 'short int'],
  4: ['unsigned int', 'int'],
  8: ['long unsigned int', 'long int'],
};

/**
 * Converts a BTF graph into ISF `base_types`, `user_types` and `enums`, the way dwarf2json lays out
 * DWARF: typedefs of structs/unions/enums become user types under the typedef's name, other
 * typedefs and qualifiers resolve to their target, anonymous members are `unnamed_field_N` with
 * `anonymous: true`, anonymous types are `unnamed_<hash>`, and bitfields are
 * `{ kind: 'bitfield', bit_position, bit_length }` relative to the byte holding their first bit.
 *
 * @example
 * ```ts
 * import { btfToIsfTypes } from './btf-to-isf.js';
 * declare const btf: import('./btf-types.js').BtfGraph;
 * btfToIsfTypes(btf).user_types['task_struct']?.fields['pid']?.offset; // 2416 on Debian 6.1.0-56
 * ```
 */
export function btfToIsfTypes(btf: BtfGraph): IsfTypes {
  return new Converter(btf).run();
}

class Converter {
  readonly #btf: BtfGraph;
  readonly base_types: Record<string, IsfBaseType> = Object.create(null) as Record<
    string,
    IsfBaseType
  >;
  readonly user_types: Record<string, IsfUserType> = Object.create(null) as Record<
    string,
    IsfUserType
  >;
  readonly enums: Record<string, IsfEnum> = Object.create(null) as Record<string, IsfEnum>;
  /** Composite types still to emit: [ISF name, BTF id]. */
  readonly #pending: [string, number][] = [];
  readonly #queued = new Set<string>();

  constructor(btf: BtfGraph) {
    this.#btf = btf;
  }

  run(): IsfTypes {
    this.base_types['void'] = { kind: 'void', size: 0, signed: false, endian: 'little' };
    this.base_types['pointer'] = { kind: 'int', size: 8, signed: false, endian: 'little' };
    const types = this.#btf.types;
    for (let id = 1; id < types.length; id += 1) {
      const type = types[id];
      if (type === undefined || type.name === '') continue;
      if (type.kind === 'struct' || type.kind === 'union') this.#queue(type.name, id);
      else if (type.kind === 'enum' || type.kind === 'enum64') this.#addEnum(type.name, type);
      else if (type.kind === 'int' || type.kind === 'float') this.#addBase(type);
      else if (type.kind === 'typedef') this.describe(id);
    }
    for (let next = this.#pending.pop(); next !== undefined; next = this.#pending.pop()) {
      const [name, id] = next;
      const type = types[id];
      if (type?.kind === 'struct' || type?.kind === 'union') this.#emit(name, type);
    }
    return { base_types: this.base_types, user_types: this.user_types, enums: this.enums };
  }

  describe(id: number, depth = 0): IsfTypeDescriptor {
    const type = this.#btf.types[id];
    if (type === undefined || depth > MAX_CHAIN) return { kind: 'base', name: 'void' };
    switch (type.kind) {
      case 'void':
        return { kind: 'base', name: 'void' };
      case 'int':
      case 'float':
        return { kind: 'base', name: this.#addBase(type) };
      case 'ptr': {
        const target = this.#btf.types[type.type];
        if (target?.kind === 'func_proto')
          return { kind: 'pointer', subtype: { kind: 'function' } };
        return { kind: 'pointer', subtype: this.describe(type.type, depth + 1) };
      }
      case 'array':
        return { kind: 'array', count: type.count, subtype: this.describe(type.type, depth + 1) };
      case 'struct':
      case 'union': {
        const name = type.name === '' ? unnamedName(id, type) : type.name;
        this.#queue(name, id);
        return { kind: type.kind, name };
      }
      case 'enum':
      case 'enum64': {
        const name = type.name === '' ? unnamedName(id, type) : type.name;
        this.#addEnum(name, type);
        return { kind: 'enum', name };
      }
      case 'fwd':
        return { kind: type.union ? 'union' : 'struct', name: type.name };
      case 'typedef': {
        const targetId = this.#stripQualifiers(type.type);
        const target = this.#btf.types[targetId];
        if (target?.kind === 'struct' || target?.kind === 'union') {
          this.#queue(type.name, targetId);
          return { kind: target.kind, name: type.name };
        }
        return this.describe(type.type, depth + 1);
      }
      case 'const':
      case 'volatile':
      case 'restrict':
      case 'type_tag':
        return this.describe(type.type, depth + 1);
      case 'func':
      case 'func_proto':
        return { kind: 'function' };
      case 'var':
      case 'datasec':
      case 'decl_tag':
        return { kind: 'base', name: 'void' };
      default: {
        const unreachable: never = type;
        return unreachable;
      }
    }
  }

  #stripQualifiers(id: number): number {
    let current = id;
    for (let depth = 0; depth < MAX_CHAIN; depth += 1) {
      const type = this.#btf.types[current];
      if (
        type?.kind !== 'const' &&
        type?.kind !== 'volatile' &&
        type?.kind !== 'restrict' &&
        type?.kind !== 'type_tag'
      ) {
        return current;
      }
      current = type.type;
    }
    return current;
  }

  #queue(name: string, id: number): void {
    if (this.#queued.has(name)) return;
    this.#queued.add(name);
    this.#pending.push([name, id]);
  }

  #emit(name: string, type: BtfComposite): void {
    const fields: Record<string, IsfField> = Object.create(null) as Record<string, IsfField>;
    let unnamed = 0;
    for (const member of type.members) {
      let fieldName = member.name;
      const anonymous = fieldName === '';
      if (anonymous) {
        fieldName = `unnamed_field_${unnamed}`;
        unnamed += 1;
      }
      const described = this.describe(member.type);
      const intBits = this.#intBitfieldBits(member.type);
      const bitLength = member.bitfieldSize !== 0 ? member.bitfieldSize : intBits;
      if (bitLength !== 0) {
        // dwarf2json's convention: the byte holding the first bit, and the bit within it.
        const offset = Math.floor(member.bitOffset / 8);
        fields[fieldName] = {
          type: {
            kind: 'bitfield',
            bit_position: member.bitOffset - offset * 8,
            bit_length: bitLength,
            type: described,
          },
          offset,
        };
      } else {
        fields[fieldName] = {
          type: described,
          offset: Math.floor(member.bitOffset / 8),
          ...(anonymous ? { anonymous: true } : {}),
        };
      }
    }
    this.user_types[name] = { kind: type.kind, size: type.size, fields };
  }

  /** Old-style BTF bitfields (kind_flag clear): an INT whose nr_bits is less than its size. */
  #intBitfieldBits(id: number): number {
    const type = this.#btf.types[this.#stripQualifiers(id)];
    return type?.kind === 'int' && type.bits !== 0 && type.bits < type.size * 8 ? type.bits : 0;
  }

  #addBase(type: Extract<BtfType, { kind: 'int' | 'float' }>): string {
    if (!(type.name in this.base_types)) {
      const kind =
        type.kind === 'float'
          ? 'float'
          : type.bool || type.name === '_Bool'
            ? 'bool'
            : type.char || type.name.includes('char')
              ? 'char'
              : 'int';
      this.base_types[type.name] = {
        kind,
        size: type.size,
        signed: type.kind === 'float' || type.signed,
        endian: 'little',
      };
    }
    return type.name;
  }

  #addEnum(name: string, type: BtfEnum): void {
    if (name in this.enums) return;
    const constants: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const value of type.values) constants[value.name] = Number(value.value);
    const base = ENUM_BASE[type.size]?.[type.signed ? 1 : 0] ?? 'unsigned int';
    this.enums[name] = { size: type.size, base, constants };
  }
}

function unnamedName(id: number, type: BtfComposite | BtfEnum): string {
  const shape =
    'members' in type
      ? type.members.map((m) => `${m.name}:${m.type}@${m.bitOffset}`).join(',')
      : type.values.map((v) => `${v.name}=${v.value}`).join(',');
  const digest = createHash('sha256')
    .update(`${type.kind}:${id}:${type.size}:${shape}`)
    .digest('hex');
  return `unnamed_${digest.slice(0, 16)}`;
}
