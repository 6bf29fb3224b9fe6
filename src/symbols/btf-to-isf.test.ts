import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BtfBlobBuilder } from './_btf-test-builder.js';
import { parseBtf } from './btf-parser.js';
import { btfToIsfTypes } from './btf-to-isf.js';
import { BtfKind } from './btf-types.js';

/** struct task { int pid; struct { long a; union { int b; char c; }; }; unsigned int f:3; }; typedef struct task task_t; */
function taskBlob(): Uint8Array {
  const b = new BtfBlobBuilder();
  const int = b.type(BtfKind.INT, { name: 'int', sizeOrType: 4 }, [(1 << 24) | 32]); // 1
  const long = b.type(BtfKind.INT, { name: 'long int', sizeOrType: 8 }, [(1 << 24) | 64]); // 2
  const char = b.type(BtfKind.INT, { name: 'char', sizeOrType: 1 }, [(3 << 24) | 8]); // 3
  const uint = b.type(BtfKind.INT, { name: 'unsigned int', sizeOrType: 4 }, [32]); // 4
  const inner = b.type(BtfKind.UNION, { vlen: 2, sizeOrType: 4 }, [
    b.name('b'),
    int,
    0,
    b.name('c'),
    char,
    0,
  ]); // 5
  const outer = b.type(BtfKind.STRUCT, { vlen: 2, sizeOrType: 16 }, [
    b.name('a'),
    long,
    0,
    0,
    inner,
    64,
  ]); // 6
  const task = b.type(BtfKind.STRUCT, { name: 'task', vlen: 3, kindFlag: true, sizeOrType: 32 }, [
    b.name('pid'),
    int,
    0,
    0,
    outer,
    64,
    b.name('f'),
    uint,
    (3 << 24) | 196,
  ]); // 7
  b.type(BtfKind.TYPEDEF, { name: 'task_t', sizeOrType: task }); // 8
  const ptr = b.type(BtfKind.PTR, { sizeOrType: task }); // 9
  b.type(BtfKind.STRUCT, { name: 'holder', vlen: 2, sizeOrType: 16 }, [
    b.name('t'),
    ptr,
    0,
    b.name('arr'),
    11,
    64,
  ]); // 10
  b.type(BtfKind.ARRAY, {}, [char, int, 8]); // 11
  return b.build();
}

void describe('btfToIsfTypes', () => {
  const isf = btfToIsfTypes(parseBtf(taskBlob()));

  void it('writes structs with anonymous members as unnamed_field_N and unnamed_<hash> types', () => {
    const task = isf.user_types['task'];
    assert.equal(task?.size, 32);
    assert.deepEqual(task?.fields['pid'], { type: { kind: 'base', name: 'int' }, offset: 0 });
    const anonymous = task?.fields['unnamed_field_0'];
    assert.equal(anonymous?.anonymous, true);
    assert.equal(anonymous?.offset, 8);
    assert.ok(anonymous?.type.kind === 'struct' && anonymous.type.name.startsWith('unnamed_'));
  });

  void it('writes bitfields relative to the byte holding their first bit (dwarf2json)', () => {
    assert.deepEqual(isf.user_types['task']?.fields['f'], {
      type: {
        kind: 'bitfield',
        bit_position: 4,
        bit_length: 3,
        type: { kind: 'base', name: 'unsigned int' },
      },
      offset: 24,
    });
  });

  void it('names typedefs of structs as user types and resolves pointers and arrays', () => {
    assert.equal(isf.user_types['task_t']?.size, 32);
    assert.deepEqual(
      { ...isf.user_types['holder']?.fields },
      {
        t: { type: { kind: 'pointer', subtype: { kind: 'struct', name: 'task' } }, offset: 0 },
        arr: {
          type: { kind: 'array', count: 8, subtype: { kind: 'base', name: 'char' } },
          offset: 8,
        },
      },
    );
    assert.deepEqual(isf.base_types['char'], {
      kind: 'char',
      size: 1,
      signed: true,
      endian: 'little',
    });
    assert.equal(isf.base_types['pointer']?.size, 8);
  });
});
