import { VmsightError } from '../core/index.js';
import { openRawLayer } from '../layers/index.js';
import { decodeKallsyms, scanKallsymsTables } from '../symbols/index.js';

/**
 * Link-time addresses of `names` from a kernel image file (an uncompressed `vmlinux`, even a
 * stripped one): its compressed kallsyms tables sit contiguously in `.rodata`, so the scanner
 * that finds them in guest memory finds them in the file as well, with file offsets standing in
 * for physical addresses, and the decoder turns them into symbols (absolute addresses from
 * `kallsyms_relative_base`). Without KASLR these are the runtime addresses, known before boot —
 * what `-dfilter` needs (lab-notes §4b, §9). Takes about half a second for Debian's 6.1 kernel.
 * Names the image does not have are missing from the result.
 */
export function symbolsFromKernelImage(
  path: string,
  names: readonly string[],
): Map<string, bigint> {
  const layer = openRawLayer(path);
  try {
    const found = scanKallsymsTables(layer);
    if (found === undefined) {
      throw new VmsightError('NOT_FOUND', `Cannot find kallsyms tables in kernel image "${path}"`);
    }
    const wanted = new Set(names);
    const addresses = new Map<string, bigint>();
    for (const symbol of decodeKallsyms((at, length) => layer.read(at, length), found.tables)) {
      if (wanted.has(symbol.name) && !addresses.has(symbol.name)) {
        addresses.set(symbol.name, symbol.address);
      }
    }
    return addresses;
  } finally {
    layer.close();
  }
}
