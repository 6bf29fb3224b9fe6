import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ErrorCode,
  EXIT_CODE_BY_ERROR,
  VmsightError,
  exitCodeFor,
  isVmsightError,
} from './errors.js';

test('every error code has a distinct-enough exit status above 1', () => {
  for (const code of Object.values(ErrorCode)) {
    const status = EXIT_CODE_BY_ERROR[code];
    assert.ok(Number.isInteger(status) && status >= 2 && status < 126, `${code} -> ${status}`);
  }
  assert.equal(exitCodeFor(new VmsightError('NOT_FOUND', 'Cannot open "x"')), 4);
  assert.equal(exitCodeFor(new Error('boom')), 70);
});

test('keeps code, details and cause', () => {
  const cause = new Error('ENOENT');
  const error = new VmsightError('IO_ERROR', 'Cannot read "a"', { cause, details: { file: 'a' } });
  assert.equal(error.code, 'IO_ERROR');
  assert.equal(error.cause, cause);
  assert.deepEqual(error.details, { file: 'a' });
  assert.ok(isVmsightError(error));
  assert.ok(isVmsightError(error, 'IO_ERROR'));
  assert.ok(!isVmsightError(error, 'NOT_FOUND'));
  assert.ok(!isVmsightError(cause));
});
