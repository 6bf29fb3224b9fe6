import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  parseIsfJson,
  stringifyIsfJson,
  type IsfDocument,
  type IsfSymbol,
} from '../symbols/index.js';

/** Cache file name for a kernel: VMCOREINFO OSRELEASE and BUILD-ID, hashed (both are guest data). */
export function profileCacheKey(release: string, buildId: string): string {
  return createHash('sha256').update(`${release}\u0000${buildId}`).digest('hex').slice(0, 32);
}

/*
 * The cached form: a header line, the ISF without its plain symbols as one JSON line, then one
 * `name<TAB>hex address` line per symbol. Parsing the ISF's JSON was most of a warm `ps --dump`
 * (0.34 s of 0.43 s for the Debian 6.1 profile): the 94k symbol objects with their type
 * descriptors are half of it, and a profile needs only their addresses (SymbolTable.address());
 * an ISF for other tools is built afresh (`symbols build` never reads the cache). Symbols with
 * constant data (linux_banner, checked against memory before the cache is used) stay in the JSON.
 */
const HEADER = 'vmsight-profile 2';
const EXTENSION = '.profile';

/** A cached profile, or undefined when absent or unreadable (the cache is only a speed-up). */
export async function readCachedProfile(
  dir: string,
  key: string,
): Promise<IsfDocument | undefined> {
  try {
    return parseCachedProfile(await readFile(join(dir, `${key}${EXTENSION}`), 'utf8'));
  } catch {
    return undefined;
  }
}

function parseCachedProfile(text: string): IsfDocument | undefined {
  const headerEnd = text.indexOf('\n');
  if (text.slice(0, headerEnd) !== HEADER) return undefined;
  const jsonEnd = text.indexOf('\n', headerEnd + 1);
  if (jsonEnd < 0) return undefined;
  const isf = parseIsfJson(text.slice(headerEnd + 1, jsonEnd));
  const symbols = Object.assign(Object.create(null) as Record<string, IsfSymbol>, isf.symbols);
  for (let start = jsonEnd + 1; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const tab = text.indexOf('\t', start);
    if (tab > start && tab < end) {
      const name = text.slice(start, tab);
      if (!Object.hasOwn(symbols, name)) {
        symbols[name] = { address: BigInt(`0x${text.slice(tab + 1, end)}`) };
      }
    }
    start = end + 1;
  }
  return { ...isf, symbols };
}

/** Writes atomically (temp file + rename) so a concurrent reader never sees half a file. */
export async function writeCachedProfile(
  dir: string,
  key: string,
  isf: IsfDocument,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${key}${EXTENSION}`);
  const temp = `${path}.${process.pid}.tmp`;
  const kept: Record<string, IsfSymbol> = {};
  const lines: string[] = [];
  for (const [name, symbol] of Object.entries(isf.symbols)) {
    // Names come from guest memory: one with a tab or newline stays in the JSON part.
    if (symbol.constant_data !== undefined || /[\t\n]/.test(name)) kept[name] = symbol;
    else lines.push(`${name}\t${symbol.address.toString(16)}`);
  }
  const json = stringifyIsfJson({ ...isf, symbols: kept });
  await writeFile(temp, `${HEADER}\n${json}\n${lines.join('\n')}\n`);
  await rename(temp, path);
}
