import type { KernelProfile } from '../profiles/index.js';
import type { IntrospectionWarning } from '../symbols/index.js';

/** How a renderer shows a column (Volatility TreeGrid format hints). */
export interface PluginColumn<Row> {
  readonly name: string;
  readonly key: keyof Row & string;
  readonly type: 'int' | 'string' | 'address';
  readonly hint?: 'hex' | 'time';
}

/** What the host hands a plugin: the kernel profile and a sink for warnings. */
export interface PluginContext {
  readonly profile: KernelProfile;
  warn(warning: IntrospectionWarning): void;
}

/**
 * A plugin declares itself (id, semver version, the symbols and types it needs, its columns) and
 * yields typed rows from a generator; rendering is the caller's business.
 */
export interface LinuxPlugin<Row, Options = Record<string, never>> {
  readonly id: string;
  readonly version: string;
  readonly description: string;
  readonly requires: {
    readonly symbols: readonly string[];
    readonly types: readonly string[];
  };
  readonly columns: readonly PluginColumn<Row>[];
  run(context: PluginContext, options: Options): Generator<Row>;
}

/** Throws `NOT_FOUND` naming the first requirement the profile's symbol table lacks. */
export function checkRequirements(
  plugin: Pick<LinuxPlugin<unknown, unknown>, 'id' | 'requires'>,
  profile: KernelProfile,
): string[] {
  const missing: string[] = [];
  for (const symbol of plugin.requires.symbols) {
    if (profile.symbols.address(symbol) === undefined) missing.push(`symbol ${symbol}`);
  }
  for (const type of plugin.requires.types) {
    if (!profile.symbols.hasType(type)) missing.push(`type ${type}`);
  }
  return missing;
}
