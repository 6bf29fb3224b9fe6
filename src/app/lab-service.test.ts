import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { buildLab, labDown, labStatus, labUp } from './lab-service.js';

void describe('lab service (vmsight lab build|up|status|down)', { timeout: 300_000 }, () => {
  const name = `svc-${process.pid}`;
  const scratch = mkdtempSync(join(tmpdir(), 'vmsight-svc-'));
  after(async () => {
    // `lab up` VMs outlive their process by design: always take this one down.
    await labDown({ name }).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  });

  void it('builds (cached), boots a detached VM with a workload file, lists it and takes it down', async () => {
    const build = await buildLab();
    assert.ok(build.elapsedMs >= 0);
    const workload = join(scratch, 'w.sh');
    writeFileSync(workload, 'echo from-file\nsleep 600\n');
    const up = await labUp({ name, workloadFile: workload, memory: '128M' });
    assert.equal(up.state, 'running');
    assert.equal(up.memoryBytes, 128 * 2 ** 20);
    assert.equal(up.kernelVersion, build.kernelVersion);
    const listed = (await labStatus()).find((vm) => vm.name === name);
    assert.equal(listed?.state, 'running');
    assert.equal(listed?.pid, up.pid);
    const [down] = await labDown({ name });
    assert.equal(down?.name, name);
    assert.notEqual(down?.method, 'already-stopped');
    assert.equal(
      (await labStatus()).find((vm) => vm.name === name),
      undefined,
    );
  });

  void it('reports unknown VMs and unreadable workload files', async () => {
    await assert.rejects(labDown({ name: `none-${process.pid}` }), (e) =>
      isVmsightError(e, 'NOT_FOUND'),
    );
    await assert.rejects(labUp({ name, workloadFile: join(scratch, 'missing.sh') }), (e) =>
      isVmsightError(e, 'NOT_FOUND'),
    );
  });
});
