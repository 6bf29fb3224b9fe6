import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ensureLabBuilt } from '../lab/index.js';
import { btfToIsfTypes } from './btf-to-isf.js';
import { readIsfFile } from './isf-file.js';
import { REFERENCE_ISF, REFERENCE_ISF_MISSING } from './internal.js';
import type { IsfDocument } from './isf-types.js';
import { SymbolTable } from './symbol-table.js';
import { loadVmlinuxBanners, loadVmlinuxBtf } from './vmlinux-file.js';

/** dwarf2json 0.9.0 from the -dbg package of the lab kernel (see its README). */

/** Structs and members the Linux plugins read. */
const PLUGIN_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  task_struct: [
    '__state',
    'tasks',
    'mm',
    'active_mm',
    'pid',
    'tgid',
    'real_parent',
    'parent',
    'children',
    'sibling',
    'group_leader',
    'thread_group',
    'start_time',
    'real_cred',
    'cred',
    'comm',
    'fs',
    'files',
    'nsproxy',
    'thread',
    'stack',
    'flags',
    'exit_state',
    'thread_pid',
  ],
  mm_struct: ['pgd', 'mm_mt', 'exe_file', 'arg_start', 'arg_end', 'start_stack', 'env_start'],
  cred: ['uid', 'gid', 'euid'],
  files_struct: ['fdt'],
  fdtable: ['fd', 'max_fds'],
  file: ['f_path'],
  path: ['dentry', 'mnt'],
  dentry: ['d_name', 'd_parent'],
  thread_struct: ['sp', 'fsbase', 'gsbase'],
  pt_regs: ['di', 'orig_ax', 'ip'],
  list_head: ['next', 'prev'],
};

void describe(
  'BTF of the lab kernel against the dwarf2json reference ISF',
  { timeout: 120_000 },
  () => {
    let ours: SymbolTable;
    let reference: SymbolTable;
    let referenceIsf: IsfDocument;
    let vmlinux = '';
    let btfTypeCount = 0;

    before(async () => {
      vmlinux = (await ensureLabBuilt()).vmlinux;
      const btf = await loadVmlinuxBtf(vmlinux);
      btfTypeCount = btf.types.length;
      assert.equal(btfTypeCount, 100_751); // bpftool btf dump (lab-notes §6)
      const types = btfToIsfTypes(btf);
      ours = new SymbolTable({
        metadata: { format: '6.2.0', producer: { name: 'test', version: '0' } },
        ...types,
        symbols: {},
      });
      if (REFERENCE_ISF_MISSING !== false) return;
      referenceIsf = await readIsfFile(REFERENCE_ISF);
      reference = new SymbolTable(referenceIsf);
    });

    void it('has the offsets measured in lab-notes §6', () => {
      assert.equal(ours.offsetOf('task_struct', 'comm'), 2976);
      assert.equal(ours.offsetOf('task_struct', 'tasks'), 2192);
      assert.equal(ours.offsetOf('task_struct', 'pid'), 2416);
      assert.equal(ours.offsetOf('mm_struct', 'pgd'), 72);
      assert.equal(ours.offsetOf('mm_struct', 'arg_start'), 312);
      assert.equal(ours.sizeOf('task_struct'), 9792);
    });

    void it(
      'gives every member the plugins use the same offset and size as the reference',
      { skip: REFERENCE_ISF_MISSING },
      () => {
        for (const [type, members] of Object.entries(PLUGIN_MEMBERS)) {
          assert.equal(ours.sizeOf(type), reference.sizeOf(type), `sizeof ${type}`);
          for (const member of members) {
            assert.equal(
              ours.offsetOf(type, member),
              reference.offsetOf(type, member),
              `${type}.${member}`,
            );
          }
        }
      },
    );

    void it(
      'matches the reference offsets of all task_struct and mm_struct members',
      { skip: REFERENCE_ISF_MISSING },
      () => {
        for (const type of ['task_struct', 'mm_struct', 'cred', 'files_struct']) {
          const fields = referenceIsf.user_types[type]?.fields ?? {};
          for (const name of Object.keys(fields)) {
            if (name.startsWith('unnamed_field_')) continue;
            assert.equal(ours.member(type, name)?.offset, fields[name]?.offset, `${type}.${name}`);
          }
        }
      },
    );

    void it(
      'finds the banner the reference was built for in the vmlinux',
      { skip: REFERENCE_ISF_MISSING },
      async () => {
        const data = referenceIsf.symbols['linux_banner']?.constant_data ?? '';
        const banner = Buffer.from(data, 'base64').toString('latin1').replace(/\0$/, '');
        assert.ok((await loadVmlinuxBanners(vmlinux)).includes(banner));
      },
    );
  },
);
