import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { formatPublicIdentity } from './public-identity.js';
import { keyFingerprint } from './raw-keys.js';
import { parseExpectedSender } from './expected-sender.js';
import { fakeCapture, fakeImage, openTestLocker, scratchDir } from './_test-support.js';

void describe('evidence import --expect-sender', () => {
  const scratch = scratchDir('expect-sender');
  let provider: Awaited<ReturnType<typeof openTestLocker>>;
  let analyst: Awaited<ReturnType<typeof openTestLocker>>;
  let other: Awaited<ReturnType<typeof openTestLocker>>;
  const bundle = join(scratch.path, 'item.vmsb');
  let itemId = '';

  before(async () => {
    provider = await openTestLocker(join(scratch.path, 'provider'), 'provider');
    analyst = await openTestLocker(join(scratch.path, 'analyst'), 'analyst');
    other = await openTestLocker(join(scratch.path, 'other'), 'other');
    const item = await provider.locker.acquire({
      subject: 'vm-a',
      capture: fakeCapture(fakeImage(50_000)),
    });
    itemId = item.id;
    await provider.locker.export(item.id, {
      recipientKey: analyst.keys.identity.encryptionKey,
      output: bundle,
    });
  });
  after(() => {
    for (const party of [provider, analyst, other]) party.store.close();
    scratch.remove();
  });

  void it('reads a key, a fingerprint or a public identity file', () => {
    const key = provider.keys.identity.signingKey;
    assert.deepEqual(parseExpectedSender(`ed25519:${key}`), { signingKey: key });
    assert.deepEqual(parseExpectedSender(formatPublicIdentity(provider.keys.identity)), {
      signingKey: key,
    });
    assert.deepEqual(parseExpectedSender(keyFingerprint(key)), {
      fingerprint: keyFingerprint(key),
    });
    assert.throws(
      () => parseExpectedSender('x25519:abc'),
      (e: unknown) => isVmsightError(e, 'INVALID_ARGUMENT'),
    );
  });

  void it('refuses a bundle from anyone else and stores nothing', async () => {
    await assert.rejects(
      analyst.locker.import(bundle, {
        expectSender: { signingKey: other.keys.identity.signingKey },
      }),
      (error: unknown) =>
        isVmsightError(error, 'INVALID_INPUT') &&
        error.message.includes(keyFingerprint(provider.keys.identity.signingKey)),
    );
    assert.equal(await analyst.store.getItem(itemId), undefined);
    assert.deepEqual(await analyst.keys.trustedSigners(), []);
  });

  void it('accepts the bundle when the expected provider signed it', async () => {
    const result = await analyst.locker.import(bundle, {
      expectSender: { fingerprint: keyFingerprint(provider.keys.identity.signingKey) },
    });
    assert.equal(result.itemId, itemId);
  });
});
