/**
 * Test support of `layers` for other folders' tests (the nats.js `internal_mod.ts` pattern): lint
 * lets only `*.test.ts` and `*.bench.ts` files import this, and the build leaves it out.
 */
export { buildTestElf } from './internal-test/elf-test-builder.js';
export { PageTableBuilder } from './_page-table-builder.js';
