import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { QmpClient } from '../connectors/index.js';
import { VmsightError } from '../core/index.js';
import { isVmProcessAlive, readVmState, vmsightHome } from '../lab/index.js';

/**
 * Everything later commands need to reach a VM (`--vm NAME`): its QMP socket and, when known, a
 * way to read its RAM (the shared-memory file, or the QEMU pid for /proc/<pid>/mem).
 */
export interface VmDescriptor {
  readonly name: string;
  /** "registered" by `vmsight vm add`, or a "lab" VM started by `vmsight lab up`. */
  readonly source: 'registered' | 'lab';
  readonly qmpSocket: string;
  readonly ramPath?: string;
  readonly pid?: number;
  readonly memoryBytes?: number;
  readonly gdbPort?: number;
}

interface RegistryFile {
  readonly version: 1;
  readonly vms: Readonly<
    Record<string, Omit<VmDescriptor, 'name' | 'source'> & { readonly addedAt: string }>
  >;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function registryPath(): string {
  return join(vmsightHome(), 'vms.json');
}

async function readRegistry(): Promise<RegistryFile> {
  let text: string;
  try {
    text = await readFile(registryPath(), 'utf8');
  } catch {
    return { version: 1, vms: {} };
  }
  try {
    const parsed = JSON.parse(text) as RegistryFile;
    if (parsed.version !== 1 || typeof parsed.vms !== 'object' || parsed.vms === null)
      throw new Error('unexpected shape');
    return parsed;
  } catch (error) {
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot read the VM registry "${registryPath()}": it is not a vmsight registry`,
      { cause: error },
    );
  }
}

async function writeRegistry(registry: RegistryFile): Promise<void> {
  const path = registryPath();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, `${JSON.stringify(registry, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

export interface AddVmOptions {
  readonly qmpSocket: string;
  readonly ramPath?: string;
  readonly pid?: number;
  /** TCP port of the gdbstub it was started with (`-gdb tcp:127.0.0.1:PORT`), for the GDB sensor. */
  readonly gdbPort?: number;
}

/**
 * `vmsight vm add NAME --qmp SOCKET [--ram FILE | --pid PID] [--gdb-port PORT]`: registers a QEMU vmsight did not
 * start, after checking that its QMP socket answers and that the RAM file or pid exists.
 */
export async function addVm(name: string, options: AddVmOptions): Promise<VmDescriptor> {
  if (!NAME_PATTERN.test(name)) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot register VM "${name}": use up to 64 letters, digits, "-", "_" or "."`,
    );
  }
  if (options.ramPath !== undefined && options.pid !== undefined) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot register VM "${name}": give either "--ram" or "--pid", not both`,
    );
  }
  const qmpSocket = resolve(options.qmpSocket);
  const qmp = await QmpClient.connect(qmpSocket, { connectTimeoutMs: 5000 });
  try {
    await qmp.execute('query-status', {}, { timeoutMs: 5000 });
  } finally {
    await qmp.close();
  }
  let ramPath: string | undefined;
  let memoryBytes: number | undefined;
  if (options.ramPath !== undefined) {
    ramPath = resolve(options.ramPath);
    try {
      memoryBytes = statSync(ramPath).size;
    } catch (error) {
      throw new VmsightError(
        'NOT_FOUND',
        `Cannot register VM "${name}": RAM file "${ramPath}" does not exist`,
        { cause: error },
      );
    }
  }
  if (options.pid !== undefined && !existsSync(`/proc/${options.pid}`)) {
    throw new VmsightError(
      'NOT_FOUND',
      `Cannot register VM "${name}": no process with pid "${options.pid}"`,
    );
  }
  const registry = await readRegistry();
  const entry = {
    qmpSocket,
    ...(ramPath === undefined ? {} : { ramPath }),
    ...(memoryBytes === undefined ? {} : { memoryBytes }),
    ...(options.pid === undefined ? {} : { pid: options.pid }),
    ...(options.gdbPort === undefined ? {} : { gdbPort: options.gdbPort }),
    addedAt: new Date().toISOString(),
  };
  await writeRegistry({ version: 1, vms: { ...registry.vms, [name]: entry } });
  return registeredDescriptor(name, entry);
}

function registeredDescriptor(name: string, entry: RegistryFile['vms'][string]): VmDescriptor {
  return {
    name,
    source: 'registered',
    qmpSocket: entry.qmpSocket,
    ...(entry.ramPath === undefined ? {} : { ramPath: entry.ramPath }),
    ...(entry.memoryBytes === undefined ? {} : { memoryBytes: entry.memoryBytes }),
    ...(entry.pid === undefined ? {} : { pid: entry.pid }),
    ...(entry.gdbPort === undefined ? {} : { gdbPort: entry.gdbPort }),
  };
}

/** `vmsight vm remove NAME`. */
export async function removeVm(name: string): Promise<void> {
  const registry = await readRegistry();
  if (!Object.hasOwn(registry.vms, name)) {
    throw new VmsightError('NOT_FOUND', `Cannot remove VM "${name}": it is not registered`);
  }
  const vms = Object.fromEntries(Object.entries(registry.vms).filter(([key]) => key !== name));
  await writeRegistry({ version: 1, vms });
}

/** Registered VMs (`vmsight vm list`). */
export async function listRegisteredVms(): Promise<VmDescriptor[]> {
  const registry = await readRegistry();
  return Object.entries(registry.vms).map(([name, entry]) => registeredDescriptor(name, entry));
}

/**
 * The VM a `--vm NAME` option names: a registered VM first, then a running lab VM. `NOT_FOUND`
 * otherwise, naming both places looked at.
 */
export async function resolveVm(name: string): Promise<VmDescriptor> {
  const registry = await readRegistry();
  const entry = Object.hasOwn(registry.vms, name) ? registry.vms[name] : undefined;
  if (entry !== undefined) return registeredDescriptor(name, entry);
  const state = NAME_PATTERN.test(name) ? await readVmState(name) : undefined;
  if (state !== undefined && isVmProcessAlive(state)) {
    return {
      name,
      source: 'lab',
      qmpSocket: state.qmpSocket,
      ramPath: state.ramPath,
      pid: state.pid,
      memoryBytes: state.memoryBytes,
      ...(state.gdbPort === undefined ? {} : { gdbPort: state.gdbPort }),
    };
  }
  throw new VmsightError(
    'NOT_FOUND',
    `Cannot find VM "${name}": it is neither registered ("vmsight vm add") nor a running lab VM ("vmsight lab up")`,
    {
      details: { vm: name },
    },
  );
}
