import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/vmsight.js', import.meta.url));

function vmsight(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

void describe('vmsight lab / vm commands', () => {
  void it('lab status --json prints a JSON list', () => {
    const result = vmsight('lab', 'status', '--json');
    assert.equal(result.status, 0, result.stderr);
    assert.ok(Array.isArray(JSON.parse(result.stdout)));
  });

  void it('maps errors to exit codes: bad option 2, unknown VM 4', () => {
    assert.equal(vmsight('lab', 'up', '--accel', 'xen').status, 2);
    const missing = vmsight('vm', 'show', `none-${process.pid}`);
    assert.equal(missing.status, 4);
    assert.match(missing.stderr, /Cannot find VM "none-/);
    assert.equal(vmsight('lab', 'down', '--name', `none-${process.pid}`).status, 4);
  });
});
