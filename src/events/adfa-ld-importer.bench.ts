// Load time of the whole ADFA-LD dataset (5,951 files, 2.7 M calls) through readAdfaLd. Prints
// figures only; benchmarks never pass or fail on the clock. Run: npm run bench -- events
import { readAdfaLd } from './adfa-ld-importer.js';
import { adfaLdDataset } from './internal-test/test-support.js';

const { root, skip } = adfaLdDataset();
if (skip !== false) {
  console.log(`skipped: ${skip}`);
} else {
  for (const concurrency of [1, 16]) {
    const started = performance.now();
    let traces = 0;
    let calls = 0;
    for await (const trace of readAdfaLd(root, { concurrency })) {
      traces += 1;
      calls += trace.calls.length;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `adfa-ld load, concurrency ${concurrency}: ${traces} traces, ${calls} calls in ` +
        `${seconds.toFixed(2)} s (${Math.round(calls / seconds).toLocaleString('en')} calls/s)`,
    );
  }
}
