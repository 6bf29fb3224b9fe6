import { isObject, step, type IsfChecker, type Json } from './isf-checker.js';
import { checkDescriptor } from './isf-descriptor-validator.js';

/*
 * The type sections (`base_types`, `user_types`, `enums`) as Volatility 3's 6.x schemas describe
 * them, plus what intermed.py's native table needs (sources in isf-validator.ts): every base type
 * but void by kind, size, endianness and signedness, and a "pointer" base type for pointers.
 */
const BASE_KINDS = new Set(['void', 'int', 'float', 'char', 'bool']);
const USER_KINDS = new Set(['struct', 'union', 'class']);

export function checkBaseTypes(checker: IsfChecker): void {
  const types = checker.section('base_types');
  for (const [path, value] of checker.entries(
    'base_types',
    ['size', 'kind', 'signed', 'endian'],
    [],
  )) {
    checker.integer(`${path}.size`, value['size']);
    if (!BASE_KINDS.has(value['kind'] as string)) {
      checker.fail(
        `${path}.kind`,
        `"${String(value['kind'])}" is not void, int, float, char or bool`,
      );
    }
    if (typeof value['signed'] !== 'boolean') checker.fail(`${path}.signed`, 'must be a boolean');
    if (value['endian'] !== 'little' && value['endian'] !== 'big') {
      checker.fail(`${path}.endian`, `"${String(value['endian'])}" is not little or big`);
    }
  }
  if (Object.keys(checker.section('user_types')).length > 0 && !Object.hasOwn(types, 'pointer')) {
    checker.fail('$.base_types.pointer', 'is missing: Volatility 3 sizes pointers by it');
  }
}

export function checkUserTypes(checker: IsfChecker): void {
  for (const [path, value] of checker.entries('user_types', ['kind', 'size', 'fields'], [])) {
    if (!USER_KINDS.has(value['kind'] as string)) {
      checker.fail(`${path}.kind`, `"${String(value['kind'])}" is not struct, union or class`);
    }
    checker.integer(`${path}.size`, value['size']);
    const fields = value['fields'];
    if (!isObject(fields)) {
      checker.fail(`${path}.fields`, 'must be an object');
      continue;
    }
    for (const fieldName of Object.keys(fields)) {
      const p = step(`${path}.fields`, fieldName);
      const field = fields[fieldName];
      if (!checker.shape(p, field, ['type', 'offset'], ['anonymous'])) continue;
      const f = field as Json;
      checker.integer(`${p}.offset`, f['offset']);
      if (Object.hasOwn(f, 'anonymous') && typeof f['anonymous'] !== 'boolean') {
        checker.fail(`${p}.anonymous`, 'must be a boolean');
      }
      checkDescriptor(checker, `${p}.type`, f['type'], 0);
      // intermed.py (6.2.0 reader) flattens an anonymous member through its type's own fields.
      const kind = isObject(f['type']) ? f['type']['kind'] : undefined;
      if (f['anonymous'] === true && !USER_KINDS.has(kind as string)) {
        checker.fail(`${p}.type.kind`, 'an anonymous member must be a struct, union or class');
      }
    }
  }
}

export function checkEnums(checker: IsfChecker): void {
  const bases = checker.section('base_types');
  for (const [path, e] of checker.entries('enums', ['size', 'base', 'constants'], [])) {
    checker.integer(`${path}.size`, e['size']);
    checker.string(`${path}.base`, e['base']);
    if (typeof e['base'] === 'string' && !Object.hasOwn(bases, e['base'])) {
      checker.fail(`${path}.base`, `names base type "${e['base']}", which is not defined`);
    }
    const constants = e['constants'];
    if (!isObject(constants)) checker.fail(`${path}.constants`, 'must be an object');
    else {
      for (const key of Object.keys(constants)) {
        checker.integer(step(`${path}.constants`, key), constants[key], -Infinity);
      }
    }
  }
}
