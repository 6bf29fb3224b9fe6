// Sets up what the tests need (scripts/test-setup.mjs; VMSIGHT_TEST_SETUP=0 skips it), then runs
// every src/**/*.test.ts with Node's test runner and fails when no test ran, so a broken
// glob or an empty suite can never pass. Arguments filter test files by substring:
//   npm test -- detectors events/strace
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFiles } from './find-files.mjs';
import { setUpForTests } from './test-setup.mjs';

const filters = process.argv.slice(2);
const files = findFiles('src', '.test.ts').filter(
  (file) => filters.length === 0 || filters.some((filter) => file.includes(filter)),
);
if (files.length === 0) {
  console.error(`No test files match ${filters.length ? filters.join(', ') : 'src/**/*.test.ts'}`);
  process.exit(1);
}

if (process.env.VMSIGHT_TEST_SETUP !== '0') setUpForTests();

const scratch = mkdtempSync(join(tmpdir(), 'vmsight-test-'));
const tapFile = join(scratch, 'report.tap');
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { stdio: 'inherit' },
);

const tap = readFileSync(tapFile, 'utf8');
rmSync(scratch, { recursive: true, force: true });
const count = (name) => Number(tap.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? 0);
const tests = count('tests');
const passed = count('pass');
const failed = count('fail') + count('cancelled');
const skipped = count('skipped') + count('todo');
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
if (tests === 0) {
  console.error('The test runner ran 0 tests: treating that as a failure');
  process.exit(1);
}
process.exit(result.status ?? 1);
