import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EscapeAlertUpdate } from '../../app/index.js';
import { escapeText } from './watch.js';

const write = (value: number) =>
  ({ space: 'port', direction: 'write', address: 0x3f5, value, size: 1 }) as const;

const block: EscapeAlertUpdate = {
  type: 'escape',
  vm: 'mon',
  action: 'block',
  ruleId: 'venom-fdc-fifo-overrun',
  cves: ['CVE-2015-3456'],
  severity: 'critical',
  device: 'isa-fdc',
  events: Array.from({ length: 20 }, (_, i) => write(i === 0 ? 0x8e : 0x42)),
  paused: true,
  triggerToStoppedMs: 47.25,
};

test('the TTY view names VM, rule, CVE and pause, then the last matching accesses', () => {
  const [head, accesses, rest] = escapeText(block).split('\n');
  assert.equal(
    head,
    'ESCAPE BLOCK mon rule venom-fdc-fifo-overrun (CVE-2015-3456) critical on isa-fdc: ' +
      'VM PAUSED (resume with QMP "cont" when cleared), 47.3 ms after the trigger',
  );
  assert.equal(
    accesses,
    `  accesses (last 8 of 20): ${Array(8).fill('write 0x3f5=0x42').join(' ')}`,
  );
  assert.equal(rest, '');
});

test('an alert verdict or a failed pause says so', () => {
  const alert = escapeText({ ...block, action: 'alert', paused: false, events: [write(0x8e)] });
  assert.match(
    alert,
    /^ESCAPE ALERT mon .*: VM left running\n {2}accesses \(1\): write 0x3f5=0x8e\n$/,
  );
  const failed = escapeText({ ...block, paused: false, pauseError: 'QMP closed' });
  assert.match(failed, /: pause FAILED: QMP closed\n/);
});
