/**
 * Test support of `events` for other folders' tests and benchmarks (lint lets only those import
 * this; the build leaves it out).
 */
export { adfaLdDataset } from './internal-test/test-support.js';
