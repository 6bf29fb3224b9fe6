/**
 * Test support of `app` for the front ends' tests (lint lets only test and benchmark files import
 * this; the build leaves it out).
 */
export { adfaLdDataset } from '../events/internal.js';
