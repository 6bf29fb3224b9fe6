import type { QmpClient } from '../connectors/index.js';
import { isJsonObject, type JsonObject, type JsonValue } from './canonical-json.js';

/** query-* commands whose results describe the machine (QEMU 7.2 QAPI schema). */
const CONFIG_QUERIES = [
  'query-version',
  'query-target',
  'query-kvm',
  'query-status',
  'query-cpus-fast',
  'query-memory-size-summary',
  'query-memdev',
  'query-dump-guest-memory-capability',
] as const;
/** query-* commands whose results identify the tenant's VM: withheld by `--pseudonymise`. */
const IDENTITY_QUERIES = ['query-name', 'query-uuid', 'query-block', 'query-chardev'] as const;

/** Anything QEMU returns, as JSON vmsight can sign (QMP replies are JSON already). */
export function asJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}

async function queryAll(qmp: QmpClient, commands: readonly string[]): Promise<JsonObject> {
  const out: Record<string, JsonValue> = {};
  for (const command of commands) {
    try {
      out[command] = asJson(await qmp.execute(command, {}, { timeoutMs: 10_000 }));
    } catch (error) {
      // A command this QEMU lacks is recorded as such, not fatal: the record says what was asked.
      out[command] = { error: error instanceof Error ? error.message : String(error) };
    }
  }
  return out;
}

async function registers(qmp: QmpClient, cpus: JsonValue): Promise<JsonObject> {
  const out: Record<string, JsonValue> = {};
  const list = Array.isArray(cpus) ? (cpus as JsonValue[]) : [];
  for (const cpu of list) {
    const index = isJsonObject(cpu) ? cpu['cpu-index'] : undefined;
    if (typeof index !== 'number') continue;
    out[String(index)] = asJson(
      await qmp.execute(
        'human-monitor-command',
        { 'command-line': 'info registers', 'cpu-index': index },
        { timeoutMs: 10_000 },
      ),
    );
  }
  return out;
}

/**
 * What an acquisition records about the machine, whatever takes the image: its configuration
 * (query-*), the tenant-identifying facts (withheld by `--pseudonymise`) and each vCPU's registers
 * (HMP `info registers`). Call it with the guest paused for registers that match the memory.
 */
export async function queryVmFacts(
  qmp: QmpClient,
): Promise<{ config: JsonObject; identity: JsonObject; registers: JsonObject }> {
  const config = await queryAll(qmp, CONFIG_QUERIES);
  const identity = await queryAll(qmp, IDENTITY_QUERIES);
  return { config, identity, registers: await registers(qmp, config['query-cpus-fast'] ?? null) };
}
