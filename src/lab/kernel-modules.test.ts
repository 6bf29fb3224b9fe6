import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { buildTestElf } from '../layers/internal.js';
import { normalizeModuleName, parseKernelConfig, stageGuestModules } from './kernel-modules.js';

const root = mkdtempSync(join(tmpdir(), 'vmsight-mod-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A fake lib/modules/<version> tree whose .ko files carry `.modinfo` depends= lines. */
function modulesTree(
  name: string,
  modules: Record<string, string[]>,
  builtin: string[] = [],
): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'kernel', 'drivers'), { recursive: true });
  for (const [module, depends] of Object.entries(modules)) {
    const file = join(dir, 'kernel', 'drivers', `${module.replaceAll('_', '-')}.ko`);
    writeFileSync(
      file,
      buildTestElf({ '.modinfo': `license=GPL\0depends=${depends.join(',')}\0name=${module}\0` }),
    );
  }
  writeFileSync(
    join(dir, 'modules.builtin'),
    builtin.map((m) => `kernel/drivers/${m}.ko\n`).join(''),
  );
  return dir;
}

const LAB_CONFIG = (virtioPci: string): string =>
  [
    `CONFIG_VIRTIO_PCI=${virtioPci}`,
    'CONFIG_VIRTIO_BLK=m',
    '# CONFIG_VIRTIO_NET is not set',
    'CONFIG_HW_RANDOM_VIRTIO=m',
    'CONFIG_FW_CFG_SYSFS=m',
    'CONFIG_ACPI_BUTTON=y',
    'CONFIG_INPUT_EVDEV=m',
    'CONFIG_LOCALVERSION="-amd64"',
  ].join('\n');

void describe('kernel modules', () => {
  void it('parses a kernel config', () => {
    const config = parseKernelConfig(LAB_CONFIG('m'));
    assert.equal(config.get('CONFIG_VIRTIO_PCI'), 'm');
    assert.equal(config.get('CONFIG_LOCALVERSION'), '"-amd64"');
    assert.equal(config.has('CONFIG_VIRTIO_NET'), false);
    assert.equal(normalizeModuleName('virtio-pci'), 'virtio_pci');
  });

  void it('stages the configured modules with their dependencies first', async () => {
    const dir = modulesTree('tree1', {
      virtio_ring: [],
      virtio: ['virtio_ring'],
      virtio_pci: ['virtio', 'virtio_ring'],
      virtio_blk: ['virtio', 'virtio_ring'],
      virtio_rng: ['virtio'],
      qemu_fw_cfg: [],
      evdev: [],
    });
    const config = join(root, 'config1');
    writeFileSync(config, LAB_CONFIG('m'));
    const stage = join(root, 'stage1');
    mkdirSync(stage);
    const staged = await stageGuestModules(dir, config, stage);
    assert.deepEqual(staged.loadOrder, [
      'virtio_ring',
      'virtio',
      'virtio_pci',
      'virtio_blk',
      'virtio_rng',
      'qemu_fw_cfg',
      'evdev',
    ]);
    assert.deepEqual(staged.builtIn, ['button']);
    assert.deepEqual(staged.absent, ['virtio_net']);
    assert.deepEqual(readdirSync(stage).sort(), staged.loadOrder.map((m) => `${m}.ko`).sort());
  });

  void it('skips dependencies the kernel has built in', async () => {
    const dir = modulesTree(
      'tree2',
      { virtio_blk: ['virtio'], virtio_rng: ['virtio'], qemu_fw_cfg: [], evdev: [] },
      ['virtio'],
    );
    const config = join(root, 'config2');
    writeFileSync(config, LAB_CONFIG('y'));
    const stage = join(root, 'stage2');
    mkdirSync(stage);
    const staged = await stageGuestModules(dir, config, stage);
    assert.deepEqual(staged.loadOrder, ['virtio_blk', 'virtio_rng', 'qemu_fw_cfg', 'evdev']);
    assert.deepEqual(staged.builtIn, ['virtio_pci', 'button']);
  });

  void it('rejects dependency cycles and missing modules', async () => {
    const config = join(root, 'config3');
    writeFileSync(config, LAB_CONFIG('m'));
    const cyclic = modulesTree('tree3', { virtio_pci: ['virtio'], virtio: ['virtio_pci'] });
    mkdirSync(join(root, 'stage3'));
    await assert.rejects(stageGuestModules(cyclic, config, join(root, 'stage3')), (e) =>
      isVmsightError(e, 'INVALID_INPUT'),
    );
    const missing = modulesTree('tree4', { virtio_pci: ['virtio_gone'] });
    mkdirSync(join(root, 'stage4'));
    await assert.rejects(stageGuestModules(missing, config, join(root, 'stage4')), (e) =>
      isVmsightError(e, 'NOT_FOUND'),
    );
  });
});
