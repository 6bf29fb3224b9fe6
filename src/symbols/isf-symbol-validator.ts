import { isInteger, step, type IsfChecker, type Json } from './isf-checker.js';
import { checkDescriptor } from './isf-descriptor-validator.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** `$.symbols`: an address each, and optionally a linkage name, a type and base64 constant data. */
export function checkSymbols(checker: IsfChecker): void {
  const symbols = checker.section('symbols');
  for (const name of Object.keys(symbols)) {
    const path = step('$.symbols', name);
    const value = symbols[name];
    if (!checker.shape(path, value, ['address'], ['linkage_name', 'type', 'constant_data']))
      continue;
    const s = value as Json;
    const address = s['address'];
    if (!isInteger(address)) checker.fail(`${path}.address`, 'must be a number');
    if (Object.hasOwn(s, 'linkage_name')) checker.string(`${path}.linkage_name`, s['linkage_name']);
    if (Object.hasOwn(s, 'type')) checkDescriptor(checker, `${path}.type`, s['type'], 0);
    if (Object.hasOwn(s, 'constant_data')) {
      checker.string(`${path}.constant_data`, s['constant_data'], BASE64);
    }
  }
}
