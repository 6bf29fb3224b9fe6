import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runVmsight, type CliResult } from '../internal-test/run-cli.js';

const vmsight = (...args: string[]): CliResult => runVmsight(args);

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
    const badPort = vmsight('vm', 'add', 'x', '--qmp', '/nonexistent', '--gdb-port', '70000');
    assert.equal(badPort.status, 2);
    assert.match(badPort.stderr, /--gdb-port.*expected a TCP port \(1-65535\)/);
  });
});
