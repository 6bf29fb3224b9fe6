import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { QmpClient } from '../connectors/index.js';
import type { Logger } from '../core/index.js';
import { isVmProcessAlive, type LabVmState } from './vm-state.js';

export interface StopOptions {
  /** How long the guest gets to power off after ACPI `system_powerdown`. Default 5 s. */
  readonly powerdownTimeoutMs?: number;
  readonly log?: Logger;
}

export interface StopResult {
  /** How the QEMU process ended: it was already gone, the guest powered off, QMP quit, or SIGKILL. */
  readonly method: 'already-stopped' | 'powerdown' | 'quit' | 'kill';
}

async function waitForExit(state: LabVmState, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isVmProcessAlive(state)) return true;
    await sleep(50);
  }
  return !isVmProcessAlive(state);
}

async function tryQmp(
  state: LabVmState,
  command: 'system_powerdown' | 'quit',
  log?: Logger,
): Promise<boolean> {
  let qmp: QmpClient | undefined;
  try {
    qmp = await QmpClient.connect(state.controlSocket, {
      connectTimeoutMs: 2000,
      commandTimeoutMs: 2000,
    });
    await qmp.execute(command);
    return true;
  } catch (error) {
    log?.debug({ vm: state.name, command, error }, 'QMP shutdown step failed');
    return false;
  } finally {
    await qmp?.close();
  }
}

/**
 * Stops a lab VM and removes what it leaves behind: ACPI power-down first (the guest's acpid powers
 * off), then QMP `quit`, then SIGKILL by pid, each after a timeout; then the shared-memory RAM file
 * and the VM's state directory. Safe on a VM that is already gone.
 */
export async function stopLabVmProcess(
  state: LabVmState,
  options: StopOptions = {},
): Promise<StopResult> {
  let method: StopResult['method'] = 'already-stopped';
  if (isVmProcessAlive(state)) {
    if (
      (await tryQmp(state, 'system_powerdown', options.log)) &&
      (await waitForExit(state, options.powerdownTimeoutMs ?? 5000))
    ) {
      method = 'powerdown';
    } else if ((await tryQmp(state, 'quit', options.log)) && (await waitForExit(state, 3000))) {
      method = 'quit';
    } else {
      method = 'kill';
      try {
        process.kill(state.pid, 'SIGKILL');
      } catch {
        // It exited on its own meanwhile.
      }
      await waitForExit(state, 3000);
    }
  }
  await rm(state.ramPath, { force: true });
  await rm(state.dir, { recursive: true, force: true });
  return { method };
}
