// Real triggers for every device rule on ONE booted lab guest under TCG: the guest gets the devices
// the rules cover (std VGA for VBE, Cirrus, PCnet, RTL8139, EHCI, NVMe); small libc-free programs
// built now on the host drive each rule's register pattern through ioperm (port BARs found in
// sysfs) or a sysfs `resource0` mmap (MMIO BARs), with descriptors in a locked page whose physical
// address comes from /proc/self/pagemap. QEMU trace events are the sensor; the rules' BARs come
// from QMP `query-pci`, and the memory rules read the descriptors from the live RAM file. Every
// trigger must be blocked (VM paused, alert with the right CVE); the test then plays operator and
// resumes the guest with `cont` for the next one.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CAN_BUILD_GUEST_PROGRAMS,
  PCIDEV_SHELL,
  buildGuestPrograms,
  pumpGuard,
  guardedGuestScope,
  type GuestProgram,
} from './internal-test/guard-lab-guest.js';

/** VBE DISPI (hw/display/vga.c): enable a mode, set a bank, then disable VBE with the bank kept. */
const VBE: GuestProgram = {
  name: 'vbe',
  body: String.raw`
static void vbe(u16 index, u16 value) { outw(index, 0x1ce); outw(value, 0x1cf); }
static int run(int argc, char **argv) {
  (void)argc; (void)argv;
  ports(0x1ce, 3);
  vbe(1, 640); vbe(2, 480); vbe(3, 8);
  vbe(4, 1);      /* VBE_DISPI_INDEX_ENABLE <- VBE_DISPI_ENABLED */
  vbe(5, 0x100);  /* VBE_DISPI_INDEX_BANK: bank_offset = bank << 16 */
  vbe(4, 0);      /* back to legacy VGA, bank offset still set */
  say("VBE-DONE\n");
  return 0;
}
`,
};

/** Cirrus BitBLT (hw/display/cirrus_vga.c): a backward copy from VRAM address 0, then GR31 start. */
const CIRRUS: GuestProgram = {
  name: 'cirrus',
  body: String.raw`
static int run(int argc, char **argv) {
  (void)argc; (void)argv;
  /* outw 0x3ce: GR index in the low byte, value in the high byte. */
  static const u16 gr[] = {
    0x3f20, 0x0021,         /* GR20/21 width - 1 = 63 */
    0x0f22, 0x0023,         /* GR22/23 height - 1 = 15 */
    0x4024, 0x0025,         /* GR24/25 destination pitch 64 */
    0x4026, 0x0027,         /* GR26/27 source pitch 64 */
    0x0028, 0x0029, 0x002a, /* GR28-2A destination address 0 */
    0x002c, 0x002d, 0x002e, /* GR2C-2E source address 0 */
    0x0d32,                 /* GR32 ROP: source copy */
    0x0130,                 /* GR30 BLT mode: CIRRUS_BLTMODE_BACKWARDS */
    0x0231,                 /* GR31: CIRRUS_BLT_START */
  };
  ports(0x3c4, 12);
  outw(0x1206, 0x3c4); /* SR06 <- 0x12 unlocks the Cirrus extensions */
  for (unsigned i = 0; i < sizeof gr / sizeof gr[0]; i++) outw(gr[i], 0x3ce);
  say("CIRRUS-DONE\n");
  return 0;
}
`,
};

/** PCnet (hw/net/pcnet.c, word I/O mode): reset, CSR15 <- LOOP, start, CSR0 <- TDMD. */
const PCNET: GuestProgram = {
  name: 'pcnet',
  body: String.raw`
static void csr(u16 io, u16 index, u16 value) { outw(index, io + 0x12); outw(value, io + 0x10); }
static int run(int argc, char **argv) {
  if (argc < 3) die("usage: pcnet IOBASE DEVDIR\n");
  u16 io = (u16)hex(argv[1]);
  enable_device(argv[2]);
  ports(io, 32);
  inw(io + 0x14);            /* reading RESET (base+0x14) resets the chip: STOP set, CSRs writable */
  csr(io, 15, 0x0004);       /* CSR15 mode: LOOP */
  csr(io, 0, 0x0002);        /* CSR0: STRT */
  csr(io, 0, 0x0008);        /* CSR0: TDMD, transmit demand */
  say("PCNET-DONE\n");
  return 0;
}
`,
};

/**
 * RTL8139 C+ (hw/net/rtl8139.c): loopback in TxConfig, C+ transmit, one descriptor (OWN|EOR|FS|LS|
 * LGSEN) whose IPv4 total length is below its header length (the CVE-2015-5165 shape), TxPoll.
 */
const RTL8139: GuestProgram = {
  name: 'rtl8139',
  body: String.raw`
static int run(int argc, char **argv) {
  if (argc < 3) die("usage: rtl8139 IOBASE DEVDIR\n");
  u16 io = (u16)hex(argv[1]);
  u64 phys;
  u8 *page = dma_page(&phys);
  u8 *frame = page + 0x100;
  for (int i = 0; i < 12; i++) frame[i] = 0x52;
  frame[12] = 0x08; frame[13] = 0x00;  /* IPv4 */
  frame[14] = 0x45;                    /* version 4, IHL 5 (20 bytes) */
  frame[16] = 0; frame[17] = 19;       /* total length 19 < 20 */
  frame[23] = 6;                       /* TCP */
  u32 *desc = (u32 *)page;
  desc[0] = (1u << 31) | (1u << 30) | (1u << 29) | (1u << 28) | (1u << 27) | 64;
  desc[2] = (u32)(phys + 0x100); desc[3] = (u32)((phys + 0x100) >> 32);
  enable_device(argv[2]);
  ports(io, 256);
  outb(0x10, io + 0x37);               /* CR: software reset */
  for (int i = 0; i < 1000 && (inb(io + 0x37) & 0x10); i++) pause_ms(1);
  outb(0x0c, io + 0x37);               /* CR: receiver and transmitter on */
  outl(0x00060000, io + 0x40);         /* TxConfig: TxLoopBack (bits 17-18) */
  outw(0x0001, io + 0xe0);             /* CpCmd: CPlusTxEnb */
  outl((u32)phys, io + 0x20); outl((u32)(phys >> 32), io + 0x24); /* C+ TX ring */
  outb(0x40, io + 0xd9);               /* TxPoll: CPlus */
  say("RTL8139-DONE\n");
  return 0;
}
`,
};

/**
 * The memory rules read descriptors when the guard sees the kick, which with a trace-log sensor is
 * later than the guest made it: the programs keep their buffers, as an exploit would, rather than
 * exit and let the kernel recycle the page before the guard looks.
 */
const HOLD = '#define HOLD_MS 10000\n';

/**
 * EHCI (hw/usb/hcd-ehci.c, operational registers at BAR0+0x20): an async schedule of one QH and one
 * SETUP qTD; "setup-len" asks GET_DESCRIPTOR with wLength 0x2000 (> data_buf's 4096), "reentry"
 * points the qTD buffer at the controller's own BAR.
 */
const EHCI: GuestProgram = {
  name: 'ehci',
  body:
    HOLD +
    String.raw`
static int run(int argc, char **argv) {
  if (argc < 5) die("usage: ehci RESOURCE0 setup-len|reentry BARPHYS DEVDIR\n");
  int reentry = argv[2][0] == 'r';
  u64 bar_phys = hex(argv[3]);
  u64 phys;
  u8 *page = dma_page(&phys);
  u32 *qh = (u32 *)page, *qtd = (u32 *)(page + 0x40);
  u8 *setup = page + 0x100;
  u16 wlength = reentry ? 18 : 0x2000;
  setup[0] = 0x80; setup[1] = 6; setup[3] = 1; setup[6] = (u8)wlength; setup[7] = (u8)(wlength >> 8);
  qh[0] = (u32)phys | 2;                                          /* horizontal link: itself, QH */
  qh[1] = (64u << 16) | (1u << 15) | (1u << 14) | (2u << 12);     /* MPS 64, H, DTC, high speed */
  qh[2] = 1u << 30;
  qh[4] = (u32)(phys + 0x40);                                     /* next qTD */
  qh[5] = 1;                                                      /* alternate next: T */
  qtd[0] = 1; qtd[1] = 1;
  qtd[2] = (8u << 16) | (3u << 10) | (2u << 8) | 0x80;            /* 8 bytes, CERR 3, SETUP, active */
  qtd[3] = reentry ? (u32)bar_phys : (u32)(phys + 0x100);         /* buffer pointer 0 */
  enable_device(argv[4]);
  volatile u8 *bar = map_bar(argv[1], 0x1000);
  w32(bar, 0x60, 1);                  /* CONFIGFLAG: ports to EHCI */
  w32(bar, 0x38, (u32)phys);          /* ASYNCLISTADDR */
  w32(bar, 0x20, 0x21);               /* USBCMD: Run | Async Schedule Enable (the kick) */
  pause_ms(50);
  w32(bar, 0x20, 0);
  say("EHCI-DONE\n");
  pause_ms(HOLD_MS);
  return 0;
}
`,
};

/**
 * NVMe (hw/nvme/ctrl.c): admin queues in a locked page, controller enabled, one admin command, SQ0
 * tail doorbell (BAR0+0x1000). "nslist": Get Log Page, Changed Namespace List, offset 8192;
 * "reentry": Identify with PRP1 at the controller's own BAR.
 */
const NVME: GuestProgram = {
  name: 'nvme',
  body:
    HOLD +
    String.raw`
static void wait_ready(volatile u8 *bar, u32 want) {
  for (int i = 0; i < 2000 && (r32(bar, 0x1c) & 1) != want; i++) pause_ms(1);
}
static int run(int argc, char **argv) {
  if (argc < 5) die("usage: nvme RESOURCE0 nslist|reentry BARPHYS DEVDIR\n");
  int reentry = argv[2][0] == 'r';
  u64 bar_phys = hex(argv[3]);
  u64 phys;
  u8 *page = dma_page(&phys);
  u32 *sqe = (u32 *)page;
  if (reentry) {
    sqe[0] = 0x06 | (1u << 16);                              /* Identify, CID 1 */
    sqe[6] = (u32)bar_phys; sqe[7] = (u32)(bar_phys >> 32);  /* PRP1: the controller's BAR */
    sqe[10] = 1;                                             /* CNS 1: controller */
  } else {
    sqe[0] = 0x02 | (1u << 16);                              /* Get Log Page, CID 1 */
    sqe[1] = 0xffffffff;
    sqe[6] = (u32)(phys + 0xc00); sqe[7] = (u32)((phys + 0xc00) >> 32);
    sqe[10] = 0x04 | (15u << 16);                            /* LID 4, NUMDL 15 (64 bytes) */
    sqe[12] = 8192;                                          /* LPOL: offset past the 4 KiB list */
  }
  enable_device(argv[4]);
  volatile u8 *bar = map_bar(argv[1], 0x2000);
  w32(bar, 0x14, 0); wait_ready(bar, 0);                      /* CC.EN = 0 */
  w32(bar, 0x24, (3u << 16) | 3u);                            /* AQA: 4-entry admin queues */
  w32(bar, 0x28, (u32)phys); w32(bar, 0x2c, (u32)(phys >> 32));                   /* ASQ */
  w32(bar, 0x30, (u32)(phys + 0x800)); w32(bar, 0x34, (u32)((phys + 0x800) >> 32)); /* ACQ */
  w32(bar, 0x14, 0x00460001); wait_ready(bar, 1);             /* IOCQES 4, IOSQES 6, EN */
  w32(bar, 0x1000, 1);                                        /* SQ0 tail doorbell (the kick) */
  pause_ms(50);
  w32(bar, 0x14, 0);
  say("NVME-DONE\n");
  pause_ms(HOLD_MS);
  return 0;
}
`,
};

/** Each trigger, the shell that runs it, and the rule and CVE that must block it. */
const TRIGGERS: readonly { step: string; shell: string; ruleId: string; cve: string }[] = [
  { step: 'vbe', shell: '/tmp/vbe', ruleId: 'vga-vbe-bank-mode-switch', cve: 'CVE-2016-3710' },
  { step: 'cirrus', shell: '/tmp/cirrus', ruleId: 'cirrus-backward-blit', cve: 'CVE-2017-2615' },
  {
    step: 'pcnet',
    shell: 'd=$(pcidev 0x1022 0x2000); set -- $(head -1 $d/resource); /tmp/pcnet $1 $d',
    ruleId: 'pcnet-loopback-transmit',
    cve: 'CVE-2015-7504',
  },
  {
    step: 'rtl8139',
    shell: 'd=$(pcidev 0x10ec 0x8139); set -- $(head -1 $d/resource); /tmp/rtl8139 $1 $d',
    ruleId: 'rtl8139-cplus-loopback',
    cve: 'CVE-2015-5165',
  },
  {
    step: 'ehci-setup-len',
    shell:
      'd=$(pcidev 0x8086 0x24cd); set -- $(head -1 $d/resource); /tmp/ehci $d/resource0 setup-len $1 $d',
    ruleId: 'usb-ehci-setup-len',
    cve: 'CVE-2020-14364',
  },
  {
    step: 'ehci-reentry',
    shell:
      'd=$(pcidev 0x8086 0x24cd); set -- $(head -1 $d/resource); /tmp/ehci $d/resource0 reentry $1 $d',
    ruleId: 'usb-ehci-dma-reentrancy',
    cve: 'CVE-2021-3750',
  },
  {
    step: 'nvme-nslist',
    shell:
      'd=$(pcidev 0x1b36 0x0010); set -- $(head -1 $d/resource); /tmp/nvme $d/resource0 nslist $1 $d',
    ruleId: 'nvme-changed-nslist-offset',
    cve: 'CVE-2021-3947',
  },
  {
    step: 'nvme-reentry',
    shell:
      'd=$(pcidev 0x1b36 0x0010); set -- $(head -1 $d/resource); /tmp/nvme $d/resource0 reentry $1 $d',
    ruleId: 'nvme-dma-reentrancy',
    cve: 'CVE-2021-3929',
  },
];

const VM = 'lab-devices';
const scope = guardedGuestScope('vmsight-tcg-devices-');
const { dir } = scope;

test(
  'TCG lab guest with VGA, Cirrus, PCnet, RTL8139, EHCI and NVMe: each rule trigger is blocked (VM paused, alert with its CVE), BARs from query-pci',
  {
    skip: CAN_BUILD_GUEST_PROGRAMS ? false : 'needs qemu-system-x86_64 and gcc',
    timeout: 420_000,
  },
  async () => {
    const programs = buildGuestPrograms(dir, [VBE, CIRRUS, PCNET, RTL8139, EHCI, NVME]);
    const nvmeDisk = join(dir, 'nvme.raw');
    writeFileSync(nvmeDisk, Buffer.alloc(1024 * 1024));
    const workload = [
      PCIDEV_SHELL,
      ...programs.install,
      'sleep 1',
      ...TRIGGERS.flatMap((t) => [`echo TRIGGER ${t.step}`, t.shell, 'sleep 3']),
      'echo TRIGGERS-DONE',
      'sleep 600',
    ].join('\n');
    const guest = await scope.start({
      name: VM,
      workload,
      extraArgs: [
        ...programs.qemuArgs,
        // Std VGA first: its VBE ports stay at 0x1ce while Cirrus owns 0x3b0-0x3df (`info mtree -f`).
        '-device',
        'VGA',
        '-device',
        'cirrus-vga',
        '-device',
        'pcnet,romfile=',
        '-device',
        'rtl8139,romfile=',
        '-device',
        'usb-ehci',
        '-drive',
        `file=${nvmeDisk},if=none,id=nv0,format=raw`,
        '-device',
        'nvme,serial=vmsight0,drive=nv0',
      ],
    });
    const { vm: running, qmp, layout, guard, alerts, feed } = guest;
    // The BARs are the firmware's choice: every guarded PCI device must have been resolved.
    assert.deepEqual(Object.keys(layout.bindings).sort(), ['nvme', 'pcnet', 'rtl8139', 'usb-ehci']);
    const statusAtBlock = new Map<string, string>();
    let triggersDone = false;
    try {
      await pumpGuard({
        feed,
        guard,
        vm: VM,
        timeoutMs: 300_000,
        onVerdicts: async (verdicts) => {
          const blocks = verdicts.filter((v) => v.verdict === 'block');
          if (blocks.length === 0) return;
          const status = (await qmp.execute('query-status')).status;
          for (const verdict of blocks)
            for (const hit of verdict.hits) statusAtBlock.set(hit.ruleId, status);
          // The operator's decision, played by the test: resume for the next trigger.
          await qmp.execute('cont');
        },
        done: async () => {
          triggersDone ||= await running.waitForSerial(/TRIGGERS-DONE/, 1).then(
            () => true,
            () => false,
          );
          return triggersDone && TRIGGERS.every((t) => statusAtBlock.has(t.ruleId));
        },
      });
      const serial = readFileSync(running.serialPath, 'utf8');
      const blocks = alerts.filter((alert) => alert.action === 'block');
      const summary = blocks.map((a) => `${a.ruleId} ${a.cves.join(',')} paused=${a.paused}`);
      for (const trigger of TRIGGERS) {
        const alert = blocks.find((a) => a.ruleId === trigger.ruleId);
        assert.ok(
          alert !== undefined,
          `${trigger.step}: no block by ${trigger.ruleId}; blocks ${JSON.stringify(summary)}; busiest ${JSON.stringify(feed.busiest(12))}; serial: ${serial.slice(-1500)}`,
        );
        assert.ok(alert.cves.includes(trigger.cve), `${trigger.step}: ${alert.cves.join(',')}`);
        assert.equal(alert.vm, VM);
        assert.ok(alert.paused, `${trigger.step}: pause failed ${alert.pauseError ?? ''}`);
        assert.equal(statusAtBlock.get(trigger.ruleId), 'paused', `${trigger.step}: VM not paused`);
      }
      // Nothing else blocked: no rule fired on another device's trigger or on the boot.
      const expected = new Set(TRIGGERS.map((t) => t.ruleId));
      assert.deepEqual(
        blocks.filter((a) => !expected.has(a.ruleId)).map((a) => a.ruleId),
        [],
      );
      console.log(
        `# TCG devices: ${feed.events} I/O events; bindings ${JSON.stringify(layout.bindings)}; ${summary.length} blocks ${JSON.stringify(blocks.map((a) => `${a.ruleId} ${a.triggerToStoppedMs?.toFixed(1)} ms`))}; counters ${JSON.stringify(guard.counters)}`,
      );
    } finally {
      await guest.close();
    }
  },
);
