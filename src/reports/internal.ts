/** Test support of `reports`, for tests in other folders (scripts/layers.mjs TEST_ENTRY_POINTS). */
export {
  CASE_TERMS,
  checkCaseDocument,
  type CaseCheck,
  type Json,
} from './internal-test/case-checks.js';
