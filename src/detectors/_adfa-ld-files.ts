/**
 * Reads the ADFA-LD data set (Creech & Hu, WCNC 2013) for the data-set test and the benchmark.
 * Only tests and benchmarks import this: the product reads ADFA-LD through the events importers.
 * Each trace file is one line of space-separated i386 system-call numbers
 * (shared/datasets/adfa-ld/README.md).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AdfaLd {
  readonly root: string;
  /** Training_Data_Master: 833 normal traces. */
  readonly training: Uint32Array[];
  /** Validation_Data_Master: 4,372 normal traces. */
  readonly validation: Uint32Array[];
  /** Attack_Data_Master/*: 746 attack traces. */
  readonly attack: Uint32Array[];
}

/** `$VMSIGHT_ADFA_LD`, or ../shared/datasets/adfa-ld next to the repository. */
export function adfaLdRoot(): string {
  const repository = fileURLToPath(new URL('../../', import.meta.url));
  return resolve(repository, process.env['VMSIGHT_ADFA_LD'] ?? '../shared/datasets/adfa-ld');
}

/** The data set at `root`, or undefined when it is not there. */
export function loadAdfaLd(root = adfaLdRoot()): AdfaLd | undefined {
  if (!existsSync(join(root, 'Training_Data_Master'))) return undefined;
  const attackRoot = join(root, 'Attack_Data_Master');
  const attack = readdirSync(attackRoot)
    .sort()
    .filter((folder) => statSync(join(attackRoot, folder)).isDirectory())
    .flatMap((folder) => readFolder(join(attackRoot, folder)));
  return {
    root,
    training: readFolder(join(root, 'Training_Data_Master')),
    validation: readFolder(join(root, 'Validation_Data_Master')),
    attack,
  };
}

function readFolder(folder: string): Uint32Array[] {
  return readdirSync(folder)
    .filter((name) => name.endsWith('.txt'))
    .sort()
    .map((name) => parseTrace(readFileSync(join(folder, name), 'latin1'), join(folder, name)));
}

function parseTrace(text: string, file: string): Uint32Array {
  const fields = text.trim().split(/\s+/);
  return Uint32Array.from(fields, (field) => {
    if (!/^\d{1,4}$/.test(field)) throw new SyntaxError(`Unexpected "${field}" in ${file}`);
    return Number(field);
  });
}
