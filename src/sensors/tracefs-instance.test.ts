// Needs root (tracefs instances); no VM. A process that made an instance and then dies — by an
// uncaught error, or SIGKILL, with a trace_pipe read pending — must not leave the instance behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { TracefsInstance, TRACEFS_ROOT } from './tracefs-instance.js';

const skip =
  process.getuid?.() !== 0 || !existsSync(TRACEFS_ROOT) ? 'needs root and tracefs' : false;
const moduleUrl = new URL('./tracefs-instance.ts', import.meta.url).href;

/** Runs a child that creates instance `name`, reads its pipe, then does `ending`. */
async function childThat(name: string, ending: 'throw' | 'wait'): Promise<void> {
  const script = `
    const { TracefsInstance } = await import(${JSON.stringify(moduleUrl)});
    const instance = await TracefsInstance.create({ name: ${JSON.stringify(name)}, events: ['kvm:kvm_pio'], pids: [process.pid] });
    instance.openPipe().on('data', () => undefined);
    console.log('READY');
    ${ending === 'throw' ? "setTimeout(() => { throw new Error('crash'); }, 100);" : 'setTimeout(() => undefined, 60000);'}
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      if (data.toString().includes('READY')) resolve();
    });
    child.once('exit', () => reject(new Error('the child exited before it was ready')));
  });
  assert.ok(TracefsInstance.exists(name));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (ending === 'wait') child.kill('SIGKILL');
  await exited;
}

async function gone(name: string): Promise<boolean> {
  for (let i = 0; i < 50 && TracefsInstance.exists(name); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !TracefsInstance.exists(name);
}

test(
  'an instance is removed when its process crashes or is killed',
  { skip, timeout: 60_000 },
  async () => {
    for (const ending of ['throw', 'wait'] as const) {
      const name = `vmsight-crash-${process.pid}-${ending}`;
      await childThat(name, ending);
      assert.ok(await gone(name), `instance left behind after "${ending}"`);
    }
  },
);

test('bad names and empty pid lists are refused before anything is created', { skip }, async () => {
  await assert.rejects(
    TracefsInstance.create({ name: '../x', events: ['kvm:kvm_pio'], pids: [1] }),
    { code: 'INVALID_ARGUMENT' },
  );
  await assert.rejects(
    TracefsInstance.create({ name: `vmsight-empty-${process.pid}`, events: [], pids: [] }),
    { code: 'INVALID_ARGUMENT' },
  );
  assert.equal(TracefsInstance.exists(`vmsight-empty-${process.pid}`), false);
  // A bad event name fails after the directory was made: it is removed again.
  const name = `vmsight-badevent-${process.pid}`;
  await assert.rejects(
    TracefsInstance.create({ name, events: ['kvm:no_such_event'], pids: [process.pid] }),
    { code: 'IO_ERROR' },
  );
  assert.equal(TracefsInstance.exists(name), false);
});
