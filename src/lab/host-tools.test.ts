import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { isVmsightError } from '../core/index.js';
import {
  LAB_HOST_PACKAGES,
  findExecutable,
  labInstallCommand,
  requireHostTools,
} from './host-tools.js';

void describe('lab host tools', () => {
  void it('names every missing package in one DEPENDENCY_MISSING error with the apt command', () => {
    const missing = new Set(['busybox', 'zstd']);
    assert.throws(
      () => requireHostTools((tool) => (missing.has(tool) ? undefined : `/usr/bin/${tool}`)),
      (error) =>
        isVmsightError(error, 'DEPENDENCY_MISSING') &&
        error.message.includes('"busybox-static", "zstd"') &&
        error.message.includes('apt-get install -y --no-install-recommends busybox-static zstd') &&
        !/\.$/.test(error.message),
    );
  });

  void it('returns each tool path when all are present', () => {
    const tools = requireHostTools((tool) => `/opt/${tool}`);
    assert.equal(tools['qemu-system-x86_64'], '/opt/qemu-system-x86_64');
    assert.equal(Object.keys(tools).length, LAB_HOST_PACKAGES.length);
  });

  void it('builds the install command from the one package list', () => {
    assert.equal(
      labInstallCommand(),
      `apt-get update && apt-get install -y --no-install-recommends ${LAB_HOST_PACKAGES.map((p) => p.package).join(' ')}`,
    );
  });

  void it('finds executables on PATH and the sbin directories', () => {
    assert.match(findExecutable('sh') ?? '', /\/sh$/);
    assert.equal(findExecutable('vmsight-no-such-tool'), undefined);
  });
});

void describe('scripts/setup-host.sh', () => {
  void it('reads the same package list as the code', () => {
    const script = fileURLToPath(new URL('../../scripts/setup-host.sh', import.meta.url));
    const printed = execFileSync('bash', [script, '--print'], { encoding: 'utf8' })
      .trim()
      .split('\n');
    assert.deepEqual(
      printed,
      LAB_HOST_PACKAGES.map((p) => p.package),
    );
  });
});
