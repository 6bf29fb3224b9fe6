import { VmsightError, type ProgressListener } from '../core/index.js';
import {
  readSyscallTraces,
  type ReadTracesOptions,
  type SyscallAbi,
  type SyscallTrace,
  type TraceFormat,
} from '../events/index.js';

export interface LoadTracesOptions extends ReadTracesOptions {
  readonly onProgress?: ProgressListener;
  /** Label drawn by front ends while traces load. */
  readonly progressLabel?: string;
}

/**
 * Reads every system-call trace of `path` into memory. Detectors train on whole traces and the
 * evaluation protocol scores each trace once, so holding the traces (2.7 M calls, 11 MB for all of
 * ADFA-LD as `Uint32Array`) is the point; the raw text never is held. Traces of different ABIs in
 * one input are refused: their call numbers mean different calls.
 */
export async function loadTraces(
  format: TraceFormat,
  path: string,
  options: LoadTracesOptions = {},
): Promise<SyscallTrace[]> {
  const traces: SyscallTrace[] = [];
  let abi: SyscallAbi | undefined;
  for await (const trace of readSyscallTraces(format, path, options)) {
    if (abi !== undefined && trace.abi !== abi) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Cannot mix system-call ABIs in "${path}": trace "${trace.id}" is ${trace.abi}, earlier traces are ${abi}`,
        { details: { path, trace: trace.id } },
      );
    }
    abi = trace.abi;
    traces.push(trace);
    if (traces.length % 64 === 0) {
      options.onProgress?.({
        label: options.progressLabel ?? 'reading traces',
        done: traces.length,
      });
    }
  }
  return traces;
}

/** The ABI shared by all `traces`, or an error naming the input when there is none. */
export function abiOf(traces: readonly SyscallTrace[], path: string): SyscallAbi {
  const first = traces[0];
  if (first === undefined) {
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot use "${path}": it holds no system-call traces`,
      {
        details: { path },
      },
    );
  }
  return first.abi;
}

/** The token space of system-call numbers of `abi`, as model files record it. */
export function syscallTokenSpace(abi: SyscallAbi): string {
  return `syscall:${abi}`;
}
