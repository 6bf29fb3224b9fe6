import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { REFERENCE_ISF, REFERENCE_ISF_MISSING } from '../../symbols/internal.js';
import type { ElfCore } from '../../layers/index.js';
import {
  openKernelProfileFromIdt,
  slideFromIdtGate,
  type KernelProfile,
} from '../../profiles/index.js';
import { readFileSync } from 'node:fs';
import {
  assertCreateTimesMatchGuest,
  assertMatchesGuest,
  parseGuestBootTime,
  plain,
  psaux,
  type GuestProcess,
} from './_lab-ps-support.js';
import { startPausedPsGuest, type PausedPsGuest } from './internal-test/paused-ps-guest.js';

void describe('psaux on a KASLR guest with 5-level paging', { timeout: 600_000 }, () => {
  let guest = new Map<number, GuestProcess>();
  let core: ElfCore | undefined;
  let live: KernelProfile;
  let fromDump: KernelProfile;

  let fixture: PausedPsGuest | undefined;

  before(async () => {
    fixture = await startPausedPsGuest({ kaslr: true, la57: true });
    ({ guest, core, live, fromDump } = fixture);
  });

  after(() => fixture?.close());

  void it('finds the slide and 5-level paging, live and from the dump', () => {
    assert.notEqual(live.slide, 0n);
    assert.equal(live.slide, fromDump.slide);
    assert.equal(live.la57, true);
    assert.equal(live.physBase, fromDump.physBase);
    // The ISF holds link-time addresses; the table slides them.
    assert.equal(fromDump.symbols.isf.symbols['init_task']?.address, 0xffffffff82a1aa40n);
    assert.equal(fromDump.symbols.address('init_task'), 0xffffffff82a1aa40n + live.slide);
  });

  void it('gets the same slide from IDT gate 0 as from VMCOREINFO', () => {
    const idt = core?.cpus[0]?.idt_base;
    assert.ok(idt !== undefined);
    const gate = fromDump.kernel.read(idt, 16);
    const linkTime = fromDump.symbols.isf.symbols['asm_exc_divide_error']?.address ?? 0n;
    assert.equal(slideFromIdtGate(gate, linkTime), fromDump.slide);
  });

  void it('lists the same processes live and from the dump, matching the guest listing', () => {
    const a = psaux(live);
    const b = psaux(fromDump);
    assert.deepEqual(a.warnings, []);
    assert.deepEqual(plain(a.rows), plain(b.rows));
    assertMatchesGuest(a.rows, guest);
    assert.ok(
      a.rows.some((r) => r.args === 'sh -c sleep 3000; echo never vmsight-arg0 alpha beta'),
    );
    // Creation times through the slid tk_core, as the guest's btime + starttime give them.
    const btime = parseGuestBootTime(readFileSync(fixture?.vm.serialPath ?? '', 'utf8'));
    assert.ok(btime !== undefined);
    assert.ok(assertCreateTimesMatchGuest(a.rows, guest, btime).compared > 40);
  });

  void it(
    'builds the profile without VMCOREINFO from an ISF and the IDT, with the same result',
    { skip: REFERENCE_ISF_MISSING },
    async () => {
      const cpu = core?.cpus[0];
      assert.ok(cpu !== undefined && core !== undefined);
      const profile = await openKernelProfileFromIdt(core.layer, {
        isf: REFERENCE_ISF,
        cpu: { cr3: cpu.cr3, cr4: cpu.cr4, idtBase: cpu.idt_base },
      });
      assert.equal(profile.slide, fromDump.slide);
      assert.equal(profile.physBase, fromDump.physBase);
      assert.equal(profile.kernelCr3, fromDump.kernelCr3);
      assert.equal(profile.la57, true);
      assert.equal(profile.banner, fromDump.banner);
      assert.deepEqual(plain(psaux(profile).rows), plain(psaux(fromDump).rows));
    },
  );
});
