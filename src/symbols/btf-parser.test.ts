import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isVmsightError } from '../core/index.js';
import { BtfBlobBuilder } from './_btf-test-builder.js';
import { parseBtf } from './btf-parser.js';
import { BtfKind } from './btf-types.js';

/** A small graph with every kind (btf.rst §2.2), ids in comments. */
function everyKind(): Uint8Array {
  const b = new BtfBlobBuilder();
  const int = b.type(BtfKind.INT, { name: 'int', sizeOrType: 4 }, [(1 << 24) | 32]); // 1
  const uint = b.type(BtfKind.INT, { name: 'unsigned int', sizeOrType: 4 }, [32]); // 2
  const ptr = b.type(BtfKind.PTR, { sizeOrType: 0 }); // 3: void *
  b.type(BtfKind.ARRAY, {}, [int, uint, 16]); // 4: int[16]
  // 5: struct s { int a; unsigned int flag:1; unsigned int rest:7; union { int u1; } ; }
  b.type(BtfKind.STRUCT, { name: 's', vlen: 4, kindFlag: true, sizeOrType: 12 }, [
    b.name('a'),
    int,
    0,
    b.name('flag'),
    uint,
    (1 << 24) | 32,
    b.name('rest'),
    uint,
    (7 << 24) | 33,
    0,
    6,
    64,
  ]);
  b.type(BtfKind.UNION, { vlen: 1, sizeOrType: 4 }, [b.name('u1'), int, 0]); // 6
  b.type(BtfKind.ENUM, { name: 'e', vlen: 2, kindFlag: true, sizeOrType: 4 }, [
    b.name('NEG'),
    0xffffffff,
    b.name('POS'),
    7,
  ]); // 7
  b.type(BtfKind.FWD, { name: 'later', kindFlag: true }); // 8
  b.type(BtfKind.TYPEDEF, { name: 's_t', sizeOrType: 5 }); // 9
  b.type(BtfKind.VOLATILE, { sizeOrType: int }); // 10
  b.type(BtfKind.CONST, { sizeOrType: 10 }); // 11
  b.type(BtfKind.RESTRICT, { sizeOrType: ptr }); // 12
  const proto = b.type(BtfKind.FUNC_PROTO, { vlen: 2, sizeOrType: int }, [b.name('x'), int, 0, 0]); // 13: int (int x, ...)
  b.type(BtfKind.FUNC, { name: 'f', vlen: 1, sizeOrType: proto }); // 14
  b.type(BtfKind.VAR, { name: 'v', sizeOrType: int }, [1]); // 15
  b.type(BtfKind.DATASEC, { name: '.data', vlen: 1, sizeOrType: 4 }, [15, 0, 4]); // 16
  b.type(BtfKind.FLOAT, { name: 'double', sizeOrType: 8 }); // 17
  b.type(BtfKind.DECL_TAG, { name: 'tag', sizeOrType: 5 }, [0xffffffff]); // 18
  b.type(BtfKind.TYPE_TAG, { name: 'user', sizeOrType: int }); // 19
  b.type(BtfKind.ENUM64, { name: 'e64', vlen: 1, sizeOrType: 8 }, [b.name('BIG'), 1, 0x8000_0000]); // 20
  return b.build();
}

void describe('parseBtf', () => {
  void it('decodes every BTF kind', () => {
    const btf = parseBtf(everyKind());
    assert.equal(btf.types.length, 21);
    assert.deepEqual(btf.types[0], { kind: 'void', name: '' });
    assert.deepEqual(btf.types[1], {
      kind: 'int',
      name: 'int',
      size: 4,
      signed: true,
      char: false,
      bool: false,
      bitOffset: 0,
      bits: 32,
    });
    assert.deepEqual(btf.types[3], { kind: 'ptr', name: '', type: 0 });
    assert.deepEqual(btf.types[4], { kind: 'array', name: '', type: 1, indexType: 2, count: 16 });
    assert.deepEqual(btf.types[5], {
      kind: 'struct',
      name: 's',
      size: 12,
      members: [
        { name: 'a', type: 1, bitOffset: 0, bitfieldSize: 0 },
        { name: 'flag', type: 2, bitOffset: 32, bitfieldSize: 1 },
        { name: 'rest', type: 2, bitOffset: 33, bitfieldSize: 7 },
        { name: '', type: 6, bitOffset: 64, bitfieldSize: 0 },
      ],
    });
    assert.equal(btf.types[6]?.kind, 'union');
    assert.deepEqual(btf.types[7], {
      kind: 'enum',
      name: 'e',
      size: 4,
      signed: true,
      values: [
        { name: 'NEG', value: -1n },
        { name: 'POS', value: 7n },
      ],
    });
    assert.deepEqual(btf.types[8], { kind: 'fwd', name: 'later', union: true });
    assert.deepEqual(btf.types[9], { kind: 'typedef', name: 's_t', type: 5 });
    assert.equal(btf.types[10]?.kind, 'volatile');
    assert.equal(btf.types[11]?.kind, 'const');
    assert.equal(btf.types[12]?.kind, 'restrict');
    assert.deepEqual(btf.types[13], {
      kind: 'func_proto',
      name: '',
      returnType: 1,
      params: [
        { name: 'x', type: 1 },
        { name: '', type: 0 },
      ],
    });
    assert.deepEqual(btf.types[14], { kind: 'func', name: 'f', type: 13, linkage: 1 });
    assert.deepEqual(btf.types[15], { kind: 'var', name: 'v', type: 1, linkage: 1 });
    assert.deepEqual(btf.types[16], {
      kind: 'datasec',
      name: '.data',
      size: 4,
      vars: [{ type: 15, offset: 0, size: 4 }],
    });
    assert.deepEqual(btf.types[17], { kind: 'float', name: 'double', size: 8 });
    assert.deepEqual(btf.types[18], { kind: 'decl_tag', name: 'tag', type: 5, componentIndex: -1 });
    assert.deepEqual(btf.types[19], { kind: 'type_tag', name: 'user', type: 1 });
    assert.deepEqual(btf.types[20], {
      kind: 'enum64',
      name: 'e64',
      size: 8,
      signed: false,
      values: [{ name: 'BIG', value: 0x8000_0000_0000_0001n }],
    });
    assert.equal(btf.findByName('s', 'struct'), 5);
    assert.equal(btf.findByName('s_t'), 9);
    assert.equal(btf.findByName('nothing'), undefined);
  });

  void it('rejects a bad magic, a cut-short blob and sections past the end with INVALID_INPUT', () => {
    const blob = everyKind();
    const b = new BtfBlobBuilder();
    b.type(BtfKind.INT, { name: 'int', sizeOrType: 4 }, [32]);
    for (const bad of [
      b.build({ magic: 0x1234 }),
      blob.subarray(0, 10),
      blob.subarray(0, blob.length - 20),
      b.build({ typeLen: 0x7fff_ffff }),
      b.build({ strLen: 0x7fff_ffff }),
    ]) {
      assert.throws(
        () => parseBtf(bad),
        (error) => isVmsightError(error, 'INVALID_INPUT'),
      );
    }
  });

  void it('rejects a type cut in the middle of its members', () => {
    const b = new BtfBlobBuilder();
    b.type(BtfKind.STRUCT, { name: 's', vlen: 3, sizeOrType: 4 }, [0, 0, 0]);
    assert.throws(
      () => parseBtf(b.build()),
      (error) => isVmsightError(error, 'INVALID_INPUT'),
    );
  });

  void it('enforces maxTypes and maxVlen with LIMIT_EXCEEDED', () => {
    assert.throws(
      () => parseBtf(everyKind(), { maxTypes: 5 }),
      (error) => isVmsightError(error, 'LIMIT_EXCEEDED'),
    );
    assert.throws(
      () => parseBtf(everyKind(), { maxVlen: 1 }),
      (error) => isVmsightError(error, 'LIMIT_EXCEEDED'),
    );
  });

  void it('rejects unknown kinds and names past the string section', () => {
    const unknown = new BtfBlobBuilder();
    unknown.type(31, { name: 'x' });
    assert.throws(
      () => parseBtf(unknown.build()),
      (error) => isVmsightError(error, 'INVALID_INPUT'),
    );
    const b = new BtfBlobBuilder();
    b.type(BtfKind.INT, { sizeOrType: 4 }, [32]);
    const blob = Buffer.from(b.build());
    blob.writeUInt32LE(9999, 24); // name_off of type 1
    assert.throws(
      () => parseBtf(blob),
      (error) => isVmsightError(error, 'INVALID_INPUT'),
    );
  });

  void it('never throws anything but a VmsightError on random bytes after a valid header', () => {
    const base = Buffer.from(everyKind());
    for (let seed = 1; seed < 300; seed += 1) {
      const copy = Buffer.from(base);
      for (let i = 0; i < 8; i += 1) {
        const at = 24 + ((seed * 7919 + i * 104729) % (copy.length - 24));
        copy[at] = (seed * 31 + i * 17) & 0xff;
      }
      try {
        parseBtf(copy);
      } catch (error) {
        assert.ok(isVmsightError(error), String(error));
      }
    }
  });
});
