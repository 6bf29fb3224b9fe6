import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVmsightError } from '../core/index.js';
import { ensureLabBuilt } from '../lab/index.js';
import { REFERENCE_ISF, REFERENCE_ISF_MISSING } from './internal.js';
import { readIsfFile, writeIsfFile } from './isf-file.js';
import { buildIsf } from './isf-builder.js';
import { ISF_FORMAT_VERSION, type IsfDocument } from './isf-types.js';
import { validateIsf } from './isf-validator.js';
import { loadVmlinuxBanners, loadVmlinuxBtf } from './vmlinux-file.js';

/** A small ISF that Volatility 3 accepts, to break one rule at a time. */
function smallIsf(): Record<string, unknown> {
  return {
    metadata: {
      format: '6.2.0',
      producer: { name: 'test', version: '1.0.0', datetime: '2026-01-01T00:00:00Z' },
      linux: { symbols: [], types: [] },
    },
    base_types: {
      int: { kind: 'int', size: 4, signed: true, endian: 'little' },
      char: { kind: 'char', size: 1, signed: true, endian: 'little' },
      pointer: { kind: 'int', size: 8, signed: false, endian: 'little' },
    },
    user_types: {
      list_head: {
        kind: 'struct',
        size: 16,
        fields: {
          next: {
            offset: 0,
            type: { kind: 'pointer', subtype: { kind: 'struct', name: 'list_head' } },
          },
          prev: {
            offset: 8,
            type: { kind: 'pointer', subtype: { kind: 'struct', name: 'opaque' } },
          },
        },
      },
      task: {
        kind: 'struct',
        size: 40,
        fields: {
          comm: {
            offset: 0,
            type: { kind: 'array', count: 16, subtype: { kind: 'base', name: 'char' } },
          },
          tasks: { offset: 16, type: { kind: 'struct', name: 'list_head' } },
          flags: {
            offset: 32,
            type: {
              kind: 'bitfield',
              bit_position: 0,
              bit_length: 3,
              type: { kind: 'base', name: 'int' },
            },
          },
          state: { offset: 36, type: { kind: 'enum', name: 'state' } },
        },
      },
    },
    enums: { state: { size: 4, base: 'int', constants: { RUNNING: 0, DEAD: 16 } } },
    symbols: {
      init_task: { address: 0xffffffff82a1aa40n, type: { kind: 'struct', name: 'task' } },
      schedule: { address: 0xffffffff81c00000n, type: { kind: 'function' } },
      linux_banner: { address: 0xffffffff82161900n, constant_data: 'TGludXg=' },
    },
  };
}

/** A deep copy with one change made at a dotted path (`undefined` deletes). */
function variant(path: string, value: unknown): Record<string, unknown> {
  const doc = structuredClone(smallIsf());
  const keys = path.split('.');
  let at = doc;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  const last = keys.at(-1) as string;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return doc;
}

const paths = (doc: unknown): string[] => validateIsf(doc).map((p) => p.path);

void describe('validateIsf (Volatility 3 ISF rules)', () => {
  void it('accepts a well-formed ISF', () => {
    assert.deepEqual(validateIsf(smallIsf()), []);
  });

  void it('names the JSON path of each broken rule', () => {
    const cases: [string, unknown, string][] = [
      ['enums', undefined, '$.enums'],
      ['extra', {}, '$.extra'],
      ['metadata.format', '7.0.0', '$.metadata.format'],
      ['metadata.format', '6.3.0', '$.metadata.format'], // a schema but no reader
      ['metadata.format', '6.9.0', '$.metadata.format'],
      ['metadata.producer.name', 5, '$.metadata.producer.name'],
      ['metadata.producer.datetime', 'yesterday', '$.metadata.producer.datetime'],
      ['metadata.windows', {}, '$.metadata'],
      [
        'metadata.linux.symbols',
        [{ kind: 'btf', hash_type: 'sha256' }],
        '$.metadata.linux.symbols[0].kind',
      ],
      [
        'metadata.linux.types',
        [{ kind: 'dwarf', hash_type: 'md5' }],
        '$.metadata.linux.types[0].hash_type',
      ],
      ['base_types.int.endian', 'middle', '$.base_types.int.endian'],
      ['base_types.int.signed', 'yes', '$.base_types.int.signed'],
      ['base_types.int.kind', 'integer', '$.base_types.int.kind'],
      ['base_types.char.size', 1.5, '$.base_types.char.size'],
      ['base_types.pointer', undefined, '$.base_types.pointer'],
      ['user_types.task.kind', 'record', '$.user_types.task.kind'],
      ['user_types.task.size', undefined, '$.user_types.task.size'],
      ['user_types.task.fields.comm.offset', -1, '$.user_types.task.fields.comm.offset'],
      [
        'user_types.task.fields.comm.type.kind',
        'string',
        '$.user_types.task.fields.comm.type.kind',
      ],
      [
        'user_types.task.fields.comm.type.subtype.name',
        'wchar',
        '$.user_types.task.fields.comm.type.subtype.name',
      ],
      [
        'user_types.task.fields.tasks.type.name',
        'hlist_head',
        '$.user_types.task.fields.tasks.type.name',
      ],
      [
        'user_types.task.fields.tasks.anonymous',
        'true',
        '$.user_types.task.fields.tasks.anonymous',
      ],
      ['user_types.task.fields.comm.anonymous', true, '$.user_types.task.fields.comm.type.kind'],
      [
        'user_types.task.fields.flags.type.type',
        { kind: 'pointer', subtype: { kind: 'function' } },
        '$.user_types.task.fields.flags.type.type.kind',
      ],
      [
        'user_types.task.fields.flags.type.bit_length',
        0,
        '$.user_types.task.fields.flags.type.bit_length',
      ],
      [
        'user_types.task.fields.state.type.name',
        'mode',
        '$.user_types.task.fields.state.type.name',
      ],
      ['user_types.task.fields.state.type.size', 4, '$.user_types.task.fields.state.type.size'],
      ['enums.state.base', 'u32', '$.enums.state.base'],
      ['enums.state.constants', { RUNNING: 'zero' }, '$.enums.state.constants.RUNNING'],
      ['symbols.init_task.address', '0xffffffff', '$.symbols.init_task.address'],
      [
        'symbols.init_task.type',
        { kind: 'struct', name: 'task_struct' },
        '$.symbols.init_task.type.name',
      ],
      ['symbols.linux_banner.constant_data', 'not base64!', '$.symbols.linux_banner.constant_data'],
      ['symbols.schedule.size', 8, '$.symbols.schedule.size'],
    ];
    for (const [path, value, expected] of cases) {
      // The broken rule comes first; a missing section also leaves its references undefined.
      const found = paths(variant(path, value));
      assert.equal(found[0], expected, `${path} = ${JSON.stringify(value)}: ${found.join(', ')}`);
      if (path !== 'enums') assert.equal(found.length, 1, found.join(', '));
    }
  });

  void it('quotes odd names in paths and bounds the problems listed', () => {
    const doc = variant('user_types.struct foo', { kind: 'struct', size: 'big', fields: {} });
    assert.deepEqual(paths(doc), ['$.user_types["struct foo"].size']);
    const many = variant(
      'symbols',
      Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`s${i}`, { address: 'x' }])),
    );
    assert.equal(validateIsf(many, { maxProblems: 20 }).length, 20);
    assert.deepEqual(paths(null), ['$']);
  });

  void it(
    'the reference ISF made by dwarf2json passes',
    { skip: REFERENCE_ISF_MISSING },
    async () => {
      const reference = await readIsfFile(REFERENCE_ISF);
      assert.deepEqual(validateIsf(reference), []);
    },
  );

  void describe('an ISF built from the lab kernel', () => {
    let isf: IsfDocument;
    let dir = '';
    before(async () => {
      const vmlinux = (await ensureLabBuilt()).vmlinux;
      // Symbol addresses from the reference where present, else a few made up: the types are
      // what this test is about, and they come from the lab kernel's BTF.
      const symbols = REFERENCE_ISF_MISSING
        ? [{ name: 'init_task', type: 'D', address: 0xffffffff82a1aa40n }]
        : Object.entries((await readIsfFile(REFERENCE_ISF)).symbols).map(([name, s]) => ({
            name,
            type: 'T',
            address: s.address,
          }));
      isf = buildIsf({
        btf: await loadVmlinuxBtf(vmlinux),
        symbols,
        slide: 0n,
        banner: (await loadVmlinuxBanners(vmlinux))[0] ?? '',
      });
      dir = mkdtempSync(join(tmpdir(), 'vmsight-isf-validate-'));
    });

    void it('passes, and writeIsfFile writes it; a broken one is refused before writing', async () => {
      assert.equal(isf.metadata.format, ISF_FORMAT_VERSION);
      assert.deepEqual(validateIsf(isf), []);
      const good = join(dir, 'good.json');
      await writeIsfFile(good, isf);
      assert.ok(existsSync(good));
      const broken = {
        ...isf,
        base_types: { ...isf.base_types, int: { ...isf.base_types['int'], endian: 'middle' } },
      } as unknown as IsfDocument;
      const bad = join(dir, 'bad.json');
      await assert.rejects(
        writeIsfFile(bad, broken),
        (error) =>
          isVmsightError(error, 'INVALID_INPUT') &&
          /\$\.base_types\.int\.endian/.test(error.message),
      );
      assert.equal(existsSync(bad), false);
      rmSync(dir, { recursive: true, force: true });
    });
  });
});
