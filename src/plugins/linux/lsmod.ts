import type { LinuxPlugin, PluginContext } from '../plugin.js';
import { walkList } from './list-walker.js';
import { readU32, readU64 } from './task-reader.js';

export interface LsmodRow {
  readonly name: string;
  /** Bytes, as /proc/modules shows them (core_layout.size + init_layout.size in Linux 6.1). */
  readonly size: number;
  /** Base of the module's core text (core_layout.base), /proc/modules' last column. */
  readonly base: bigint;
  readonly module: bigint;
}

/** MODULE_NAME_LEN (include/linux/module.h): 64 - sizeof(unsigned long). */
const MODULE_NAME_LEN = 56;

/**
 * `lsmod`: loaded modules from the `modules` list (kernel/module/main.c), newest first as in
 * /proc/modules. Layouts: `struct module_layout core_layout/init_layout` (Linux 4.5 to 6.3).
 */
export const lsmodPlugin: LinuxPlugin<LsmodRow, { readonly maxModules?: number }> = {
  id: 'linux.lsmod',
  version: '1.0.0',
  description: 'Loaded kernel modules',
  requires: { symbols: ['modules'], types: ['module', 'module_layout'] },
  columns: [
    { name: 'NAME', key: 'name', type: 'string' },
    { name: 'SIZE', key: 'size', type: 'int' },
    { name: 'BASE', key: 'base', type: 'address', hint: 'hex' },
    { name: 'MODULE', key: 'module', type: 'address', hint: 'hex' },
  ],
  *run(context: PluginContext, options): Generator<LsmodRow> {
    const { profile } = context;
    const symbols = profile.symbols;
    const list = BigInt(symbols.offsetOf('module', 'list'));
    const name = BigInt(symbols.offsetOf('module', 'name'));
    const core = BigInt(symbols.offsetOf('module', 'core_layout'));
    const init = BigInt(symbols.offsetOf('module', 'init_layout'));
    const base = BigInt(symbols.offsetOf('module_layout', 'base'));
    const size = BigInt(symbols.offsetOf('module_layout', 'size'));
    for (const node of walkList(profile.kernel, symbols.requireAddress('modules'), {
      what: 'module list',
      warn: (w) => context.warn(w),
      maxEntries: options.maxModules ?? 65_536,
    })) {
      const module = node - list;
      let text = '';
      try {
        const bytes = profile.kernel.read(module + name, MODULE_NAME_LEN);
        const nul = bytes.indexOf(0);
        text = Buffer.from(bytes.subarray(0, nul < 0 ? bytes.length : nul)).toString('latin1');
      } catch {
        context.warn({
          code: 'unreadable-memory',
          message: `Cannot read the name of module at 0x${module.toString(16)}`,
          address: module,
        });
        continue;
      }
      yield {
        name: text,
        size:
          (readU32(profile, module + core + size) ?? 0) +
          (readU32(profile, module + init + size) ?? 0),
        base: readU64(profile, module + core + base) ?? 0n,
        module,
      };
    }
  },
};
