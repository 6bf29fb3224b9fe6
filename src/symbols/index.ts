/**
 * Public surface of `symbols`: kernel types from BTF, symbol addresses from kallsyms in guest
 * memory, and Volatility 3 ISF read/write, behind one `SymbolTable`.
 */
export { parseBtf, type BtfLimits } from './btf-parser.js';
export {
  BtfKind,
  type BtfType,
  type BtfMember,
  type BtfComposite,
  type BtfGraph,
} from './btf-types.js';
export { btfToIsfTypes, type IsfTypes } from './btf-to-isf.js';
export {
  decodeKallsyms,
  type KallsymsOptions,
  type KallsymsTableAddresses,
  type KernelMemoryReader,
  type KernelSymbol,
} from './kallsyms-decoder.js';
export { buildIsf, type IsfBuildInput } from './isf-builder.js';
export { parseIsfJson, stringifyIsfJson, type IsfParseOptions } from './isf-json.js';
export { checkIsfFile, readIsfFile, writeIsfFile, type IsfReadOptions } from './isf-file.js';
export {
  ISF_FORMAT_VERSION,
  type IsfDocument,
  type IsfField,
  type IsfSymbol,
  type IsfTypeDescriptor,
  type IsfUserType,
  type IsfSourceInfo,
} from './isf-types.js';
export { SymbolTable, type ResolvedMember } from './symbol-table.js';
export { loadVmlinuxBanners, loadVmlinuxBtf } from './vmlinux-file.js';
export type { IntrospectionWarning } from './introspection-warning.js';
export {
  scanKallsymsTables,
  type KallsymsScanOptions,
  type KallsymsScanResult,
} from './kallsyms-scanner.js';
export {
  assertValidIsf,
  validateIsf,
  type IsfProblem,
  type IsfValidateOptions,
} from './isf-validator.js';
