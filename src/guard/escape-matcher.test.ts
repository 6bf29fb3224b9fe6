import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { GuestEvent } from '../events/index.js';
import { EscapeMatcher } from './escape-matcher.js';
import { inb, mmioWrite, outb } from './internal-test/io-events.js';
import { IoWindowBuilder } from './io-window.js';
import type { MemoryProbe } from './memory-predicate.js';
import type { EscapeRule } from './rule.js';
import { loadRules } from './rule-loader.js';

let rules: EscapeRule[];
before(async () => {
  rules = await loadRules();
});

function encode(events: readonly GuestEvent[]): Float64Array {
  const builder = new IoWindowBuilder();
  for (const event of events) builder.addEvent(event);
  return builder.finish().io;
}

function firing(events: readonly GuestEvent[], probe?: MemoryProbe): string[] {
  const matcher = new EscapeMatcher(rules, probe === undefined ? {} : { probe });
  return matcher.scan('vm1', encode(events)).map((hit) => hit.ruleId);
}

const repeat = (n: number, make: (i: number) => GuestEvent[]): GuestEvent[] =>
  Array.from({ length: n }, (_, i) => make(i)).flat();

test('VENOM: 0x8e then 1,000 data-port writes without reads blocks; the early warning fires first', () => {
  const hits = firing([outb(0x3f5, 0x8e), ...repeat(1000, () => [outb(0x3f5, 0x42)])]);
  assert.deepEqual(hits, ['venom-fdc-long-command', 'venom-fdc-fifo-overrun']);
});

test('VENOM: a polled 512-byte FDC write (MSR read before each byte) and real commands do not fire', () => {
  const seek = [
    outb(0x3f5, 0x0f),
    inb(0x3f4),
    outb(0x3f5, 0),
    inb(0x3f4),
    outb(0x3f5, 5),
    inb(0x3f4),
    inb(0x3f5),
  ];
  assert.deepEqual(
    firing([...repeat(20, () => seek), ...repeat(512, () => [inb(0x3f4), outb(0x3f5, 0xe5)])]),
    [],
  );
});

test('the state machine carries across windows', () => {
  const matcher = new EscapeMatcher(rules);
  const half = encode(repeat(300, () => [outb(0x3f5, 0x42)]));
  assert.deepEqual(
    matcher.scan('vm1', half).map((h) => h.ruleId),
    ['venom-fdc-long-command'],
  );
  assert.deepEqual(
    matcher.scan('vm1', half).map((h) => h.ruleId),
    ['venom-fdc-fifo-overrun'],
  );
  assert.deepEqual(
    matcher.scan('vm2', half).map((h) => h.ruleId),
    ['venom-fdc-long-command'],
    'per-VM state',
  );
});

test('RTL8139: loopback + C+ TX + TxPoll blocks; C+ bring-up without loopback does not', () => {
  const io = 0xc000;
  const attack = [
    outb(io + 0x40, 0x60000, 'vm1', 4),
    outb(io + 0xe0, 0x1, 'vm1', 2),
    outb(io + 0x20, 0x1000, 'vm1', 4),
    outb(io + 0xd9, 0x40),
  ];
  assert.deepEqual(firing(attack), ['rtl8139-cplus-loopback']);
  assert.deepEqual(
    firing([
      outb(io + 0x40, 0x03000700, 'vm1', 4),
      outb(io + 0xe0, 0x1, 'vm1', 2),
      outb(io + 0xd9, 0x40),
    ]),
    [],
  );
});

test('PCnet: CSR15 loopback then TDMD blocks; normal init and transmit does not', () => {
  const io = 0xc100;
  const csr = (n: number, v: number): GuestEvent[] => [
    outb(io + 0x12, n, 'vm1', 2),
    outb(io + 0x10, v, 'vm1', 2),
  ];
  assert.deepEqual(firing([...csr(15, 0x0004), ...csr(1, 0x1000), ...csr(0, 0x0008)]), [
    'pcnet-loopback-transmit',
  ]);
  assert.deepEqual(firing([...csr(15, 0x0000), ...csr(0, 0x0042), ...csr(0, 0x0008)]), []);
});

test('VBE: bank write then VBE disable blocks; a mode set with LFB does not', () => {
  const vbe = (index: number, value: number): GuestEvent[] => [
    outb(0x1ce, index, 'vm1', 2),
    outb(0x1cf, value, 'vm1', 2),
  ];
  assert.deepEqual(firing([...vbe(5, 0x200), ...vbe(4, 0)]), ['vga-vbe-bank-mode-switch']);
  assert.deepEqual(
    firing([...vbe(1, 1024), ...vbe(2, 768), ...vbe(3, 32), ...vbe(4, 0x41), ...vbe(5, 0)]),
    [],
  );
});

test('Cirrus: backward BLT mode then start blocks, including 16-bit index/data writes', () => {
  assert.deepEqual(firing([outb(0x3ce, 0x0130, 'vm1', 2), outb(0x3ce, 0x0231, 'vm1', 2)]), [
    'cirrus-backward-blit',
  ]);
  assert.deepEqual(
    firing([
      outb(0x3ce, 0x0030, 'vm1', 2),
      outb(0x3ce, 0x0231, 'vm1', 2),
      outb(0x3ce, 0x0506, 'vm1', 2),
    ]),
    [],
  );
});

function memory(map: Record<number, number[]>): MemoryProbe {
  return (_vm, address, length) => {
    for (const [base, bytes] of Object.entries(map)) {
      const offset = address - Number(base);
      if (offset >= 0 && offset + length <= bytes.length)
        return Uint8Array.from(bytes.slice(offset, offset + length));
    }
    return undefined;
  };
}
const le32 = (v: number): number[] => [
  v & 0xff,
  (v >>> 8) & 0xff,
  (v >>> 16) & 0xff,
  (v >>> 24) & 0xff,
];
const le64 = (v: number): number[] => [...le32(v % 2 ** 32), ...le32(Math.floor(v / 2 ** 32))];

test('USB EHCI: SETUP wLength 0xffff blocks, also once the controller consumed the qTD; a GET_DESCRIPTOR of 18 bytes does not; a list never started is skipped', () => {
  const ehci = 0xfebf1000;
  const schedule = (wLength: number, terminate = 0): MemoryProbe =>
    memory({
      0x10000: [...(new Array(16).fill(0) as number[]), ...le32(0x11000 | terminate)],
      0x11000: [...(new Array(12).fill(0) as number[]), ...le32(0x12000)],
      0x12000: [0x80, 6, 0, 1, 0, 0, wLength & 0xff, wLength >>> 8],
    });
  const kick = [mmioWrite(ehci + 0x38, 0x10000), mmioWrite(ehci + 0x20, 0x21)];
  assert.deepEqual(firing(kick, schedule(0xffff)), ['usb-ehci-setup-len']);
  assert.deepEqual(firing(kick, schedule(18)), []);
  assert.deepEqual(firing(kick, schedule(0xffff, 1)), []);
  // Consumed by the controller: the overlay's next pointer is terminated, the current qTD
  // pointer (QH+0x0c) still leads to the SETUP packet.
  const consumed = memory({
    0x10000: [...(new Array(12).fill(0) as number[]), ...le32(0x11000), ...le32(1)],
    0x11000: [...(new Array(12).fill(0) as number[]), ...le32(0x12000)],
    0x12000: [0x80, 6, 0, 1, 0, 0, 0x00, 0x20],
  });
  assert.deepEqual(firing(kick, consumed), ['usb-ehci-setup-len']);
});

test('NVMe: Get Log Page LID 4 offset 8192 blocks (CVE-2021-3947); PRP1 into the BAR blocks (CVE-2021-3929); benign admin commands do not', () => {
  const bar = 0xfebf4000;
  const sqe = (opcode: number, prp1: number, cdw10: number, cdw12: number): number[] => {
    const bytes = new Array<number>(64).fill(0);
    bytes[0] = opcode;
    le64(prp1).forEach((b, i) => (bytes[24 + i] = b));
    le32(cdw10).forEach((b, i) => (bytes[40 + i] = b));
    le32(cdw12).forEach((b, i) => (bytes[48 + i] = b));
    return bytes;
  };
  const run = (entry: number[]): string[] =>
    firing(
      [mmioWrite(bar + 0x28, 0x20000), mmioWrite(bar + 0x2c, 0), mmioWrite(bar + 0x1000, 1)],
      memory({ 0x20000: entry }),
    );
  assert.deepEqual(run(sqe(0x02, 0x30000, 0x00ff0004, 8192)), ['nvme-changed-nslist-offset']);
  assert.deepEqual(run(sqe(0x06, bar + 0x100, 1, 0)), ['nvme-dma-reentrancy']);
  assert.deepEqual(run(sqe(0x06, 0x30000, 1, 0)), []);
  assert.deepEqual(run(sqe(0x02, 0x30000, 0x00ff0002, 0)), []);
});

test('serial, timer and PCI config traffic is benign-known', () => {
  const matcher = new EscapeMatcher(rules);
  for (const [kind, address] of [
    [1, 0x3f8],
    [0, 0x3fd],
    [0, 0x608],
    [1, 0xcf8],
    [3, 0xfee00380],
  ] as const) {
    assert.ok(matcher.isBenignKnown(kind, address), address.toString(16));
  }
  assert.ok(!matcher.isBenignKnown(1, 0x3f5));
});
