import { VmsightError } from '../core/index.js';
import type { QmpClient } from '../connectors/index.js';
import type { DeviceBindings } from './rule-dispatch.js';

/** One BAR of a PCI device as QMP `query-pci` reports it (qapi/misc-target.json `PciMemoryRegion`). */
export interface PciBar {
  readonly bar: number;
  readonly type: 'io' | 'memory';
  readonly address: number;
  readonly size: number;
}

export interface PciDevice {
  readonly bus: number;
  readonly slot: number;
  readonly function: number;
  readonly vendor: number;
  readonly device: number;
  readonly bars: readonly PciBar[];
}

/**
 * Which BAR holds the registers a rule's offsets are relative to, per rule `device` name, by PCI
 * vendor:device id (QEMU's ids: hw/net/pcnet-pci.c 1022:2000, hw/net/rtl8139.c 10ec:8139,
 * hw/usb/hcd-ehci-pci.c 8086:24cd for `usb-ehci` (ICH4), hw/nvme/ctrl.c 1b36:0010). The legacy
 * VGA ports (VBE 0x1ce, Cirrus 0x3ce) are fixed ISA addresses and need no binding.
 */
const REGISTER_BARS: readonly {
  readonly device: string;
  readonly vendor: number;
  readonly id: number;
  readonly bar: number;
  readonly type: PciBar['type'];
}[] = [
  { device: 'pcnet', vendor: 0x1022, id: 0x2000, bar: 0, type: 'io' },
  { device: 'rtl8139', vendor: 0x10ec, id: 0x8139, bar: 0, type: 'io' },
  { device: 'usb-ehci', vendor: 0x8086, id: 0x24cd, bar: 0, type: 'memory' },
  { device: 'nvme', vendor: 0x1b36, id: 0x0010, bar: 0, type: 'memory' },
];

/** The fields read from a query-pci device entry; every one is checked before use. */
interface RawPciDevice {
  readonly bus?: unknown;
  readonly slot?: unknown;
  readonly function?: unknown;
  readonly id?: { readonly vendor?: unknown; readonly device?: unknown };
  readonly regions?: unknown;
  readonly pci_bridge?: { readonly devices?: unknown };
}
interface RawPciRegion {
  readonly bar?: unknown;
  readonly type?: unknown;
  readonly address?: unknown;
  readonly size?: unknown;
}

/** query-pci nests devices behind bridges; a hostile or broken reply must not recurse forever. */
const MAX_PCI_DEPTH = 8;
const MAX_PCI_DEVICES = 1024;

/**
 * Flattens a QMP `query-pci` reply into devices with their assigned BARs. BARs that firmware left
 * unassigned (address 0 or all ones) are dropped: nothing decodes there.
 */
export function parseQueryPci(reply: unknown): PciDevice[] {
  const devices: PciDevice[] = [];
  const fail = (reason: string): never => {
    throw new VmsightError('INVALID_INPUT', `Cannot read the query-pci reply: ${reason}`);
  };
  const num = (value: unknown, what: string): number =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
      ? value
      : fail(`${what} is not a non-negative integer`);
  const walk = (list: unknown, depth: number): void => {
    if (depth > MAX_PCI_DEPTH) fail('bridges nest too deep');
    if (!Array.isArray(list)) fail('expected a list of devices');
    for (const raw of list as unknown[]) {
      if (devices.length >= MAX_PCI_DEVICES) fail(`more than ${MAX_PCI_DEVICES} devices`);
      const entry = (raw ?? {}) as RawPciDevice;
      const id = entry.id ?? {};
      const bars: PciBar[] = [];
      const regions = entry.regions ?? [];
      if (!Array.isArray(regions)) fail('regions is not a list');
      for (const region of regions as RawPciRegion[]) {
        const type = region.type;
        if (type !== 'io' && type !== 'memory') fail(`unknown region type ${String(type)}`);
        // An unassigned BAR reads back as all ones (PCI_BAR_UNMAPPED, -1 or 2^64 - 1 in JSON).
        const address = region.address;
        const size = num(region.size, 'a region size');
        if (typeof address !== 'number' || !Number.isSafeInteger(address) || address <= 0) continue;
        if (size === 0 || address + size > 2 ** 53) continue;
        bars.push({
          bar: num(region.bar, 'a BAR number'),
          type: type as PciBar['type'],
          address,
          size,
        });
      }
      devices.push({
        bus: num(entry.bus, 'bus'),
        slot: num(entry.slot, 'slot'),
        function: num(entry.function, 'function'),
        vendor: num(id.vendor, 'vendor'),
        device: num(id.device, 'device'),
        bars,
      });
      const bridge = entry.pci_bridge;
      if (bridge?.devices !== undefined) walk(bridge.devices, depth + 1);
    }
  };
  if (!Array.isArray(reply)) fail('expected a list of buses');
  for (const bus of reply as { devices?: unknown }[]) walk(bus.devices ?? [], 0);
  return devices;
}

/** Where the guarded devices' registers are for this VM, and every device MMIO window. */
export interface PciGuardLayout {
  readonly bindings: DeviceBindings;
  readonly mmioWindows: readonly { base: number; size: number }[];
  readonly devices: readonly PciDevice[];
}

/**
 * Rule bindings from the BARs the guest's firmware assigned: a rule's `base` is only the usual
 * address, the real one is whatever SeaBIOS (or the guest OS) programmed. Every memory BAR is also
 * an MMIO window for the DMA re-entrancy rules (a DMA target there re-enters a device).
 */
export function pciGuardLayout(devices: readonly PciDevice[]): PciGuardLayout {
  const bindings: Record<string, number> = {};
  for (const known of REGISTER_BARS) {
    const device = devices.find((d) => d.vendor === known.vendor && d.device === known.id);
    const bar = device?.bars.find((b) => b.bar === known.bar && b.type === known.type);
    if (bar !== undefined) bindings[known.device] = bar.address;
  }
  const mmioWindows = devices.flatMap((device) =>
    device.bars
      .filter((bar) => bar.type === 'memory')
      .map((bar) => ({ base: bar.address, size: bar.size })),
  );
  return { bindings, mmioWindows, devices };
}

/** Asks a running VM over QMP where its PCI devices are (`query-pci`). */
export async function queryPciGuardLayout(qmp: QmpClient): Promise<PciGuardLayout> {
  return pciGuardLayout(parseQueryPci(await qmp.execute<unknown>('query-pci')));
}
