import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isVmsightError } from '../core/index.js';
import type { IsfDocument } from './isf-types.js';
import { SymbolTable } from './symbol-table.js';

const isf: IsfDocument = {
  metadata: { format: '6.2.0', producer: { name: 'test', version: '1' } },
  base_types: {},
  enums: {},
  user_types: {
    mm_struct: {
      kind: 'struct',
      size: 1096,
      fields: {
        unnamed_field_0: {
          type: { kind: 'struct', name: 'unnamed_1' },
          offset: 0,
          anonymous: true,
        },
      },
    },
    unnamed_1: {
      kind: 'struct',
      size: 1096,
      fields: {
        unnamed_field_0: {
          type: { kind: 'union', name: 'unnamed_2' },
          offset: 64,
          anonymous: true,
        },
      },
    },
    unnamed_2: {
      kind: 'union',
      size: 8,
      fields: { pgd: { type: { kind: 'base', name: 'long' }, offset: 8 } },
    },
  },
  symbols: {
    init_task: { address: 0xffffffff82a1aa40n },
    current_task: { address: 0x1fb80n },
  },
};

void describe('SymbolTable', () => {
  void it('finds members through nested anonymous structs and unions', () => {
    const table = new SymbolTable(isf);
    assert.equal(table.offsetOf('mm_struct', 'pgd'), 72);
    assert.equal(table.member('mm_struct', 'nothing'), undefined);
    assert.throws(
      () => table.offsetOf('mm_struct', 'nothing'),
      (e) => isVmsightError(e, 'NOT_FOUND'),
    );
  });

  void it('slides kernel-image symbols but not per-cpu offsets', () => {
    const table = new SymbolTable(isf, { slide: 0x19600000n });
    assert.equal(table.address('init_task'), 0xffffffff9c01aa40n);
    assert.equal(table.address('current_task'), 0x1fb80n);
  });

  void it('ignores inherited names such as __proto__ and constructor', () => {
    const table = new SymbolTable(isf);
    assert.equal(table.address('constructor'), undefined);
    assert.equal(table.address('__proto__'), undefined);
    assert.equal(table.member('constructor', 'name'), undefined);
    assert.equal(table.hasType('toString'), false);
  });
});
