import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IsfDocument } from '../symbols/index.js';
import { profileCacheKey, readCachedProfile, writeCachedProfile } from './profile-cache.js';

const ISF: IsfDocument = {
  metadata: { format: '6.2.0', producer: { name: 'test', version: '1.0.0' } },
  base_types: { pointer: { kind: 'int', size: 8, signed: false, endian: 'little' } },
  user_types: {
    list_head: {
      kind: 'struct',
      size: 16,
      fields: { next: { offset: 0, type: { kind: 'base', name: 'pointer' } } },
    },
  },
  enums: { e: { size: 8, base: 'pointer', constants: { A: 1, B: -2 } } },
  symbols: {
    init_task: { address: 0xffffffff82a1aa40n, type: { kind: 'struct', name: 'task_struct' } },
    current_task: { address: 0x1fb80n },
    linux_banner: { address: 0xffffffff82161900n, constant_data: 'TGludXgA' },
    'odd\tname': { address: 1n },
  },
};

void describe('profile cache', () => {
  void it('round-trips addresses, banner data and types; ignores foreign files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmsight-profile-cache-'));
    try {
      const key = profileCacheKey('6.1.0-56-amd64', 'abc');
      await writeCachedProfile(dir, key, ISF);
      const read = await readCachedProfile(dir, key);
      assert.ok(read !== undefined);
      assert.deepEqual(read.user_types, ISF.user_types);
      assert.deepEqual(read.enums, ISF.enums);
      assert.deepEqual(
        Object.fromEntries(Object.entries(read.symbols).map(([n, s]) => [n, s.address])),
        Object.fromEntries(Object.entries(ISF.symbols).map(([n, s]) => [n, s.address])),
      );
      assert.equal(read.symbols['linux_banner']?.constant_data, 'TGludXgA');
      const path = join(dir, `${key}.profile`);
      assert.match(readFileSync(path, 'utf8'), /^vmsight-profile 2\n/);
      writeFileSync(path, '{"metadata":{}}');
      assert.equal(await readCachedProfile(dir, key), undefined);
      assert.equal(await readCachedProfile(dir, 'absent'), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
