import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SerialLogReader } from './serial-log-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'vmsight-serial-'));
after(() => rmSync(dir, { recursive: true, force: true }));

void describe('SerialLogReader', () => {
  void it('returns only complete new lines, across partial writes and CRLF', async () => {
    const path = join(dir, 'serial.log');
    const reader = new SerialLogReader(path);
    assert.deepEqual(await reader.readLines(), [], 'a missing file reads as empty');
    appendFileSync(path, 'GUEST-READY kernel=x\r\nGUEST-DONE rc=1');
    assert.deepEqual(await reader.readLines(), ['GUEST-READY kernel=x']);
    assert.equal(reader.partialLine, 'GUEST-DONE rc=1');
    appendFileSync(path, '2 uptime=1\n');
    assert.deepEqual(await reader.readLines(), ['GUEST-DONE rc=12 uptime=1']);
    assert.deepEqual(await reader.readLines(), []);
  });

  void it('cuts absurdly long lines instead of holding them', async () => {
    const path = join(dir, 'long.log');
    appendFileSync(path, `${'x'.repeat(200_000)}\nok\n`);
    const lines = await new SerialLogReader(path).readLines();
    assert.equal(lines.length, 2);
    assert.equal(lines[0]?.length, 64 * 1024);
    assert.equal(lines[1], 'ok');
  });
});
