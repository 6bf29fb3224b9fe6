import type { IsfChecker, Json } from './isf-checker.js';

/*
 * The `metadata` section as Volatility 3's 6.x schemas and ISFormatTable readers demand it (sources
 * and checked commit in isf-validator.ts): a format with a schema file and a reader, a producer
 * (version x.y.z from 6.3.0), at most one platform, and Linux/Mac sources hashed with sha256.
 */
const SCHEMA_FORMATS = new Set(['6.0.0', '6.1.0', '6.2.0', '6.3.0']);
const READER_MINORS: Readonly<Record<number, number>> = { 6: 2 };
const SOURCE_KINDS = new Set(['dwarf', 'symtab', 'system-map']);
const SEMVER = /^\d+\.\d+\.\d+$/;
const HEX = /^[a-fA-F0-9]+$/;

/** `$.metadata`: format, producer and the platform's sources. */
export function checkMetadata(checker: IsfChecker, metadata: unknown): void {
  const path = '$.metadata';
  if (!checker.shape(path, metadata, ['format'], ['producer', 'windows', 'linux', 'mac'])) return;
  const meta = metadata as Json;
  const format = meta['format'];
  checker.string(`${path}.format`, format, /^6\.\d+\.\d+$/);
  if (typeof format === 'string' && /^6\.\d+\.\d+$/.test(format)) {
    const [major = 0, minor = 0] = format.split('.').map(Number);
    if (!SCHEMA_FORMATS.has(format)) {
      checker.fail(`${path}.format`, `Volatility 3 has no schema for format ${format}`);
    } else if ((READER_MINORS[major] ?? -1) < minor) {
      checker.fail(`${path}.format`, `Volatility 3 has no reader for format ${format}`);
    }
  }
  const strictProducer = format === '6.3.0';
  if (Object.hasOwn(meta, 'producer')) {
    const producer = meta['producer'];
    const p = `${path}.producer`;
    if (checker.shape(p, producer, ['name', 'version'], ['datetime'])) {
      const value = producer as Json;
      checker.string(`${p}.name`, value['name']);
      checker.string(`${p}.version`, value['version'], strictProducer ? SEMVER : undefined);
      if (Object.hasOwn(value, 'datetime')) {
        const datetime = value['datetime'];
        checker.string(`${p}.datetime`, datetime);
        if (typeof datetime === 'string' && Number.isNaN(Date.parse(datetime))) {
          checker.fail(`${p}.datetime`, 'is not an RFC 3339 date-time');
        }
      }
    }
  } else if (strictProducer) checker.fail(`${path}.producer`, 'is missing');
  const platforms = ['windows', 'linux', 'mac'].filter((key) => Object.hasOwn(meta, key));
  if (platforms.length > 1) {
    checker.fail(path, `holds ${platforms.join(' and ')}: at most one platform is allowed`);
  }
  for (const key of ['linux', 'mac']) {
    if (!Object.hasOwn(meta, key)) continue;
    const p = `${path}.${key}`;
    if (!checker.shape(p, meta[key], [], ['symbols', 'types'])) continue;
    const nix = meta[key] as Json;
    for (const list of ['symbols', 'types']) {
      if (!Object.hasOwn(nix, list)) continue;
      const items = nix[list];
      if (!Array.isArray(items)) {
        checker.fail(`${p}.${list}`, 'must be an array');
        continue;
      }
      items.forEach((item: unknown, i) => checkSource(checker, `${p}.${list}[${i}]`, item));
    }
  }
  if (Object.hasOwn(meta, 'windows')) checkWindows(checker, `${path}.windows`, meta['windows']);
}

/** One Linux/Mac source file entry (dwarf, symtab or system-map, hashed with sha256). */
function checkSource(checker: IsfChecker, path: string, item: unknown): void {
  if (!checker.shape(path, item, [], ['kind', 'name', 'hash_type', 'hash_value'])) return;
  const value = item as Json;
  if (Object.hasOwn(value, 'kind') && !SOURCE_KINDS.has(value['kind'] as string)) {
    checker.fail(`${path}.kind`, `"${String(value['kind'])}" is not dwarf, symtab or system-map`);
  }
  if (Object.hasOwn(value, 'name')) checker.string(`${path}.name`, value['name']);
  if (Object.hasOwn(value, 'hash_type'))
    checker.string(`${path}.hash_type`, value['hash_type'], /^sha256$/);
  if (Object.hasOwn(value, 'hash_value'))
    checker.string(`${path}.hash_value`, value['hash_value'], HEX);
}

/** `$.metadata.windows`: the PE version and the PDB that identify the kernel. */
function checkWindows(checker: IsfChecker, path: string, windows: unknown): void {
  if (!checker.shape(path, windows, [], ['pe', 'pdb'])) return;
  const value = windows as Json;
  if (Object.hasOwn(value, 'pe')) {
    const pe = value['pe'];
    if (checker.shape(`${path}.pe`, pe, ['major', 'minor', 'revision'], ['build'])) {
      for (const key of Object.keys(pe as Json))
        checker.integer(`${path}.pe.${key}`, (pe as Json)[key]);
    }
  }
  if (Object.hasOwn(value, 'pdb')) {
    const pdb = value['pdb'];
    if (checker.shape(`${path}.pdb`, pdb, ['GUID', 'age', 'database', 'machine_type'], [])) {
      const p = pdb as Json;
      checker.string(`${path}.pdb.GUID`, p['GUID']);
      checker.integer(`${path}.pdb.age`, p['age']);
      checker.string(`${path}.pdb.database`, p['database']);
      checker.integer(`${path}.pdb.machine_type`, p['machine_type']);
    }
  }
}
