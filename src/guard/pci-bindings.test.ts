import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VmsightError } from '../core/index.js';
import { parseQueryPci, pciGuardLayout } from './pci-bindings.js';

// The shape of QMP `query-pci` (qapi/misc-target.json PciInfo / PciDeviceInfo), with the BARs
// SeaBIOS assigned on the lab machine in guard-tcg-devices.qemu.test.ts.
const device = (slot: number, vendor: number, id: number, regions: object[]): object => ({
  bus: 0,
  slot,
  function: 0,
  class_info: { class: 0x200, desc: 'Ethernet controller' },
  id: { vendor, device: id, subsystem: 0x1100, 'subsystem-vendor': 0x1af4 },
  irq: 11,
  qdev_id: '',
  regions,
});
const REPLY = [
  {
    bus: 0,
    devices: [
      device(3, 0x1022, 0x2000, [
        { bar: 0, type: 'io', address: 0xc100, size: 32 },
        {
          bar: 1,
          type: 'memory',
          address: 0xfebf6000,
          size: 32,
          prefetch: false,
          mem_type_64: false,
        },
      ]),
      device(4, 0x10ec, 0x8139, [{ bar: 0, type: 'io', address: 0xc000, size: 256 }]),
      device(5, 0x8086, 0x24cd, [
        {
          bar: 0,
          type: 'memory',
          address: 0xfebf8000,
          size: 4096,
          prefetch: false,
          mem_type_64: false,
        },
      ]),
      device(6, 0x1b36, 0x0010, [
        {
          bar: 0,
          type: 'memory',
          address: 0xfebf0000,
          size: 16384,
          prefetch: false,
          mem_type_64: true,
        },
        // Not assigned by the firmware: all ones.
        { bar: 2, type: 'memory', address: -1, size: 4096, prefetch: false, mem_type_64: false },
      ]),
    ],
  },
];

test('query-pci: guarded devices bind to the BARs the firmware assigned; memory BARs are MMIO windows', () => {
  const layout = pciGuardLayout(parseQueryPci(REPLY));
  assert.deepEqual(layout.bindings, {
    pcnet: 0xc100,
    rtl8139: 0xc000,
    'usb-ehci': 0xfebf8000,
    nvme: 0xfebf0000,
  });
  assert.deepEqual(layout.mmioWindows, [
    { base: 0xfebf6000, size: 32 },
    { base: 0xfebf8000, size: 4096 },
    { base: 0xfebf0000, size: 16384 },
  ]);
});

test('query-pci: a malformed reply is rejected, bridges nest boundedly', () => {
  assert.throws(() => parseQueryPci({}), VmsightError);
  assert.throws(
    () => parseQueryPci([{ devices: [{ bus: 0, slot: 'x', function: 0, id: {}, regions: [] }] }]),
    /slot is not a non-negative integer/,
  );
  let nested: object = { bus: 1, slot: 0, function: 0, id: { vendor: 1, device: 1 }, regions: [] };
  for (let i = 0; i < 12; i += 1) nested = { ...nested, pci_bridge: { devices: [nested] } };
  assert.throws(() => parseQueryPci([{ devices: [nested] }]), /nest too deep/);
});
