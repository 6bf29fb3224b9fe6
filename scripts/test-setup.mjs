// `npm test` sets itself up on a fresh clone (README "The two commands"): npm dependencies when
// node_modules is missing, the host packages when running as root and QEMU is missing, then the
// lab guest (cached, so later runs pay ~0.5 s). Each step says what it does on standard error.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function run(what, command, args) {
  console.error(`test setup: ${what}`);
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    console.error(`test setup: "${[command, ...args].join(' ')}" failed (status ${result.status})`);
    process.exit(result.status ?? 1);
  }
}

function onPath(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

export function setUpForTests() {
  if (!existsSync('node_modules/.package-lock.json')) {
    run('installing npm dependencies', 'npm', ['ci', '--no-audit', '--no-fund']);
  }
  if (!onPath('qemu-system-x86_64') || !onPath('busybox')) {
    if (process.getuid?.() === 0) {
      run('installing host packages', 'bash', ['scripts/setup-host.sh']);
    } else {
      console.error(
        'test setup: QEMU or busybox-static is missing and this is not root: run "sudo bash scripts/setup-host.sh"; tests that boot a guest will fail',
      );
      return;
    }
  }
  run('building the lab guest (cached)', process.execPath, ['bin/vmsight.js', 'lab', 'build']);
}
