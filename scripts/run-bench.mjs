// Runs every src/**/*.bench.ts, one after another so they do not compete for the 2 cores, and
// lets each print its own figures. Benchmarks never pass or fail on the clock; a benchmark that
// throws fails the run. Arguments filter by substring: npm run bench -- detectors
import { spawnSync } from 'node:child_process';
import { findFiles } from './find-files.mjs';

const filters = process.argv.slice(2);
const files = findFiles('src', '.bench.ts').filter(
  (file) => filters.length === 0 || filters.some((filter) => file.includes(filter)),
);
let failures = 0;
for (const file of files) {
  console.log(`\n## ${file}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (result.status !== 0) failures += 1;
}
console.log(`\n${files.length} benchmark files run, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
