import { isObject, type IsfChecker } from './isf-checker.js';

/** Descriptors nest a few levels (pointer to array of pointers…); deeper is a crafted file. */
const MAX_DEPTH = 64;

/**
 * One type descriptor (schema `type_descriptor`), and that the type it names is defined: Volatility
 * 3 fails on the first use of an undefined type, except a struct, union or class reached through a
 * pointer (C's incomplete types, which dwarf2json's files hold too).
 */
export function checkDescriptor(
  checker: IsfChecker,
  path: string,
  value: unknown,
  depth: number,
  behindPointer = false,
): void {
  if (depth > MAX_DEPTH) {
    checker.fail(path, `nests deeper than ${MAX_DEPTH} levels`);
    return;
  }
  if (!isObject(value)) {
    checker.fail(path, 'must be an object');
    return;
  }
  const kind = value['kind'];
  const named = (section: string, what: string, opaqueAllowed = false): void => {
    if (!checker.shape(path, value, ['kind', 'name'], [])) return;
    const name = value['name'];
    checker.string(`${path}.name`, name);
    // C's incomplete types (`struct genradix_root *`): only pointed to, never laid out.
    if (opaqueAllowed && behindPointer) return;
    if (typeof name === 'string' && !Object.hasOwn(checker.section(section), name)) {
      checker.fail(`${path}.name`, `names ${what} "${name}", which is not defined in ${section}`);
    }
  };
  switch (kind) {
    case 'base':
      named('base_types', 'base type');
      return;
    case 'struct':
    case 'union':
    case 'class':
      named('user_types', kind, true);
      return;
    case 'enum':
      named('enums', 'enum');
      return;
    case 'function':
      checker.shape(path, value, ['kind'], []);
      return;
    case 'pointer':
      if (!checker.shape(path, value, ['kind', 'subtype'], ['base'])) return;
      if (Object.hasOwn(value, 'base')) checker.string(`${path}.base`, value['base']);
      checkDescriptor(checker, `${path}.subtype`, value['subtype'], depth + 1, true);
      return;
    case 'array':
      if (!checker.shape(path, value, ['kind', 'subtype', 'count'], [])) return;
      checker.integer(`${path}.count`, value['count']);
      checkDescriptor(checker, `${path}.subtype`, value['subtype'], depth + 1, behindPointer);
      return;
    case 'bitfield': {
      if (!checker.shape(path, value, ['kind', 'bit_position', 'bit_length', 'type'], [])) return;
      checker.integer(`${path}.bit_position`, value['bit_position']);
      checker.integer(`${path}.bit_length`, value['bit_length'], 1);
      const inner = value['type'];
      const innerKind = isObject(inner) ? inner['kind'] : undefined;
      if (innerKind !== 'base' && innerKind !== 'enum') {
        checker.fail(`${path}.type.kind`, 'a bitfield holds a base or enum type');
      } else checkDescriptor(checker, `${path}.type`, inner, depth + 1);
      return;
    }
    default:
      checker.fail(
        `${path}.kind`,
        `"${String(kind)}" is not base, struct, union, class, enum, pointer, array, bitfield or function`,
      );
  }
}
