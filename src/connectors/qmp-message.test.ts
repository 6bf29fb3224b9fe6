import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { decodeQmpMessage } from './qmp-message.js';
import { QEMU_GREETING } from './qmp-test-peer.js';

const invalid = (line: string): void => {
  assert.throws(
    () => decodeQmpMessage(line),
    (error) => isVmsightError(error, 'INVALID_INPUT'),
  );
};

void describe('decodeQmpMessage', () => {
  void it('decodes the QEMU 7.2 greeting', () => {
    const message = decodeQmpMessage(QEMU_GREETING);
    assert.equal(message.type, 'greeting');
    assert.ok(message.type === 'greeting');
    assert.deepEqual(message.version, {
      major: 7,
      minor: 2,
      micro: 22,
      package: 'Debian 1:7.2+dfsg-7+deb12u18+b3',
    });
    assert.deepEqual(message.capabilities, ['oob']);
  });

  void it('decodes return and error replies with their id', () => {
    assert.deepEqual(decodeQmpMessage('{"return": {"running": true}, "id": "vmsight-3"}'), {
      type: 'return',
      id: 'vmsight-3',
      value: { running: true },
    });
    assert.deepEqual(
      decodeQmpMessage(
        '{"error": {"class": "GenericError", "desc": "kdump-lzo is not available now"}, "id": "x"}',
      ),
      {
        type: 'error',
        id: 'x',
        errorClass: 'GenericError',
        desc: 'kdump-lzo is not available now',
      },
    );
  });

  void it('decodes events, known or not, with a microsecond timestamp', () => {
    const stop = decodeQmpMessage(
      '{"timestamp": {"seconds": 1795312723, "microseconds": 202712}, "event": "STOP"}',
    );
    assert.deepEqual(stop, {
      type: 'event',
      name: 'STOP',
      data: {},
      timestampMicros: 1795312723202712n,
    });
    const unknown = decodeQmpMessage(
      '{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "VMSIGHT_FUTURE_EVENT", "data": {"x": 1}}',
    );
    assert.equal(unknown.type === 'event' && unknown.name, 'VMSIGHT_FUTURE_EVENT');
  });

  void it('rejects malformed messages with INVALID_INPUT', () => {
    invalid('{"return": {}, "id": "vmsight-1"');
    invalid('[1, 2]');
    invalid('{"return": {}}');
    invalid('{"return": {}, "id": 7}');
    invalid('{"error": {"desc": "no class"}, "id": "a"}');
    invalid('{"QMP": {"version": {}, "capabilities": []}}');
    invalid(
      '{"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 22}}, "capabilities": [1]}}',
    );
    invalid('{"event": 5, "timestamp": {"seconds": 1, "microseconds": 0}}');
    invalid('{"event": "STOP"}');
    invalid('{"event": "STOP", "data": [], "timestamp": {"seconds": 1, "microseconds": 0}}');
    invalid('{"greeting": true}');
  });

  void it('keeps only a bounded excerpt of a hostile line in the error', () => {
    const line = `{"x": "${'A'.repeat(100_000)}"}`;
    try {
      decodeQmpMessage(line);
      assert.fail('expected an error');
    } catch (error) {
      assert.ok(isVmsightError(error, 'INVALID_INPUT'));
      assert.ok(String(error.details['excerpt']).length <= 201);
    }
  });
});
