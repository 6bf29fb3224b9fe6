import { VmsightError } from '../core/index.js';
import { readElfSection } from '../layers/index.js';
import { parseBtf, type BtfLimits } from './btf-parser.js';
import type { BtfGraph } from './btf-types.js';

const BANNER_PREFIX = Buffer.from('Linux version ', 'latin1');
/** The Debian 6.1 `.BTF` section is 4.3 MB; a vmlinux's `.rodata` about 10 MB. */
const MAX_SECTION_BYTES = 256 * 1024 * 1024;
const MAX_BANNER_LENGTH = 1024;
const MAX_BANNERS = 16;

/**
 * Reads (through the shared ELF reader of `layers`) and parses the `.BTF` section of a vmlinux.
 *
 * @example
 * ```ts
 * import { loadVmlinuxBtf } from './vmlinux-file.js';
 * const btf = await loadVmlinuxBtf('.vmsight/lab/guest-…/vmlinux');
 * ```
 */
export async function loadVmlinuxBtf(path: string, limits: BtfLimits = {}): Promise<BtfGraph> {
  const blob = await readElfSection(path, '.BTF', MAX_SECTION_BYTES);
  if (blob === undefined) {
    throw new VmsightError('NOT_FOUND', `Kernel "${path}" has no .BTF section`, {
      details: { path },
    });
  }
  return parseBtf(blob, limits);
}

/**
 * Candidate `linux_banner` strings of a vmlinux (init/version.c: "Linux version …\n"), found in
 * `.rodata` (a Debian 6.1 image holds more than one, with and without the build number). Used to
 * check that a vmlinux matches the kernel in guest memory.
 */
export async function loadVmlinuxBanners(path: string): Promise<string[]> {
  const rodata = await readElfSection(path, '.rodata', MAX_SECTION_BYTES);
  return rodata === undefined ? [] : findBanners(rodata);
}

function findBanners(rodata: Uint8Array): string[] {
  const found: string[] = [];
  const bytes = Buffer.from(rodata.buffer, rodata.byteOffset, rodata.byteLength);
  for (let at = bytes.indexOf(BANNER_PREFIX); at >= 0; at = bytes.indexOf(BANNER_PREFIX, at + 1)) {
    const end = bytes.indexOf(0, at);
    if (end < 0 || end - at > MAX_BANNER_LENGTH) continue;
    const text = bytes.toString('latin1', at, end);
    // The real banner names the compiler and build; format strings (with %s) are not it.
    if (text.includes('(') && !text.includes('%')) found.push(text);
    if (found.length >= MAX_BANNERS) break;
  }
  return found;
}
