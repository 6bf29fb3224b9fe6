import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { labPaths } from './lab-paths.js';

/** What `vmsight lab up` records in `<lab>/vms/<name>/state.json` for later commands. */
export interface LabVmState {
  readonly name: string;
  readonly pid: number;
  readonly dir: string;
  readonly qmpSocket: string;
  readonly controlSocket: string;
  readonly ramPath: string;
  readonly memoryBytes: number;
  readonly serialPath: string;
  readonly gdbPort?: number;
  readonly kernelVersion: string;
  readonly startedAt: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly args: readonly string[];
}

const STATE_FILE = 'state.json';
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

export function isValidVmName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

export function vmDir(name: string): string {
  return join(labPaths().vms, name);
}

export async function writeVmState(state: LabVmState): Promise<void> {
  await mkdir(state.dir, { recursive: true });
  await writeFile(join(state.dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

export async function readVmState(name: string): Promise<LabVmState | undefined> {
  try {
    return JSON.parse(await readFile(join(vmDir(name), STATE_FILE), 'utf8')) as LabVmState;
  } catch {
    return undefined;
  }
}

/** Every lab VM with a state file, running or not. */
export async function listVmStates(): Promise<LabVmState[]> {
  const names = await readdir(labPaths().vms).catch(() => [] as string[]);
  const states = await Promise.all(names.filter(isValidVmName).map(readVmState));
  return states
    .filter((s): s is LabVmState => s !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * True when `pid` is still this VM's QEMU: alive, not a zombie, and its command line names the VM's
 * control socket (a recycled pid belongs to some other program).
 */
export function isVmProcessAlive(state: Pick<LabVmState, 'pid' | 'controlSocket'>): boolean {
  try {
    const stat = readFileSync(`/proc/${state.pid}/stat`, 'utf8');
    // Field 3, after the parenthesised comm (which may itself contain spaces or parentheses).
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    const cmdline = readFileSync(`/proc/${state.pid}/cmdline`, 'utf8');
    return cmdline.includes(state.controlSocket);
  } catch {
    return false;
  }
}
