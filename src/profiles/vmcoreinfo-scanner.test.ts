import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BytesLayer } from '../layers/index.js';
import { scanVmcoreinfo } from './vmcoreinfo-scanner.js';

const TEXT =
  'OSRELEASE=6.1.0-56-amd64\nBUILD-ID=abc\nSYMBOL(init_top_pgt)=ffffffff82a10000\nKERNELOFFSET=0\n';

void describe('scanVmcoreinfo', () => {
  void it('finds the note text in physical memory, across chunk boundaries', () => {
    const memory = new Uint8Array(3 * 65536);
    // a decoy without init_top_pgt first, then the real one straddling the first chunk's end
    memory.set(Buffer.from('OSRELEASE=decoy\n'), 100);
    memory.set(Buffer.from(TEXT), 65536 - 10);
    const found = scanVmcoreinfo(new BytesLayer(memory), { chunkBytes: 65536 });
    assert.equal(found?.address, 65536n - 10n);
    assert.equal(found?.info.symbol('init_top_pgt'), 0xffffffff82a10000n);
  });

  void it('returns undefined when memory holds none, within maxScanBytes', () => {
    const layer = new BytesLayer(new Uint8Array(1 << 20));
    assert.equal(scanVmcoreinfo(layer), undefined);
    const memory = new Uint8Array(1 << 20);
    memory.set(Buffer.from(TEXT), 900_000);
    assert.equal(
      scanVmcoreinfo(new BytesLayer(memory), { chunkBytes: 65536, maxScanBytes: 65536n }),
      undefined,
    );
  });
});
