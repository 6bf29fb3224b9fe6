import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildQemuArgs, type QemuCommandInputs } from './qemu-command.js';

const base: QemuCommandInputs = {
  artifacts: {
    dir: '/g',
    kernelVersion: '6.1.0-56-amd64',
    vmlinux: '/g/vmlinux',
    bzImage: '/g/bzImage',
    initramfs: '/g/initramfs.cpio.gz',
    config: '/g/config',
  },
  name: 'lab',
  memoryBytes: 256 * 2 ** 20,
  ramPath: '/dev/shm/vmsight-lab-1',
  qmpSocket: '/s/qmp.sock',
  controlSocket: '/s/control.sock',
  serialPath: '/s/serial.log',
  kaslr: false,
  la57: false,
  accel: 'tcg',
};

function option(args: readonly string[], name: string): string[] {
  return args.flatMap((arg, index) => (arg === name ? [args[index + 1] ?? ''] : []));
}

void describe('buildQemuArgs', () => {
  void it('boots vmlinux through PVH under TCG with nokaslr, shared RAM and two QMP monitors', () => {
    const args = buildQemuArgs(base);
    assert.deepEqual(option(args, '-accel'), ['tcg']);
    assert.deepEqual(option(args, '-cpu'), ['max,la57=off']);
    assert.deepEqual(option(args, '-kernel'), ['/g/vmlinux']);
    assert.match(option(args, '-append')[0] ?? '', /\bnokaslr\b/);
    assert.deepEqual(option(args, '-object'), [
      'memory-backend-file,id=ram0,size=256M,mem-path=/dev/shm/vmsight-lab-1,share=on',
    ]);
    assert.deepEqual(option(args, '-machine'), ['memory-backend=ram0']);
    assert.deepEqual(option(args, '-qmp'), [
      'unix:/s/qmp.sock,server=on,wait=off',
      'unix:/s/control.sock,server=on,wait=off',
    ]);
    assert.deepEqual(option(args, '-device'), ['vmcoreinfo']);
    assert.deepEqual(option(args, '-vga'), ['none']);
    assert.ok(args.includes('-no-reboot'));
    assert.deepEqual(option(args, '-fw_cfg'), []);
    assert.deepEqual(option(args, '-gdb'), []);
  });

  void it('boots the bzImage for KASLR and for 5-level paging', () => {
    const kaslr = buildQemuArgs({ ...base, kaslr: true });
    assert.deepEqual(option(kaslr, '-kernel'), ['/g/bzImage']);
    assert.doesNotMatch(option(kaslr, '-append')[0] ?? '', /nokaslr/);
    const la57 = buildQemuArgs({ ...base, la57: true });
    assert.deepEqual(option(la57, '-kernel'), ['/g/bzImage']);
    assert.deepEqual(option(la57, '-cpu'), ['max']);
  });

  void it('adds the workload, gdbstub, KVM and extra arguments when asked', () => {
    const args = buildQemuArgs({
      ...base,
      accel: 'kvm',
      workloadPath: '/s/w.sh',
      gdbPort: 1234,
      extraArgs: ['-S'],
    });
    assert.deepEqual(option(args, '-fw_cfg'), ['name=opt/workload,file=/s/w.sh']);
    assert.deepEqual(option(args, '-gdb'), ['tcp:127.0.0.1:1234']);
    assert.deepEqual(option(args, '-cpu'), ['host']);
    assert.equal(args.at(-1), '-S');
  });
});
