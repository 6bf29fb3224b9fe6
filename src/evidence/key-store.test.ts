import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isVmsightError } from '../core/index.js';
import { custodySignatureValid, signCustodyEvent } from './custody-event.js';
import { KeyStore } from './key-store.js';
import { formatPublicIdentity, parseRecipientKey } from './public-identity.js';
import { scratchDir } from './_test-support.js';

void describe('KeyStore', () => {
  const scratch = scratchDir('keys');
  after(() => scratch.remove());

  void it('writes private files of mode 0600 in a directory of mode 0700, and reloads them', async () => {
    const dir = join(scratch.path, 'a');
    const keys = await KeyStore.init(dir, { name: 'provider' });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const file of ['signing-key.pem', 'encryption-key.pem', 'identity.json']) {
      assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
    }
    assert.doesNotMatch(readFileSync(join(dir, 'identity.json'), 'utf8'), /PRIVATE/);
    const loaded = await KeyStore.load(dir);
    assert.deepEqual(loaded.identity, keys.identity);
    assert.equal(loaded.pseudonym('subject', 'vm-a'), keys.pseudonym('subject', 'vm-a'));
    assert.notEqual(keys.pseudonym('subject', 'vm-a'), keys.pseudonym('subject', 'vm-b'));
    await assert.rejects(KeyStore.init(dir, { name: 'again' }), (e) =>
      isVmsightError(e, 'INVALID_ARGUMENT'),
    );
  });

  void it('keeps a replaced key trusted after keys init --force', async () => {
    const dir = join(scratch.path, 'f');
    const old = await KeyStore.init(dir, { name: 'p' });
    const replaced = await KeyStore.init(dir, { name: 'p', force: true });
    assert.notEqual(replaced.identity.signingKey, old.identity.signingKey);
    const trusted = await replaced.trustedSigners();
    assert.deepEqual(
      trusted.map((signer) => signer.signingKey),
      [old.identity.signingKey],
    );
    assert.equal(statSync(join(dir, 'trusted-signers.json')).mode & 0o777, 0o600);
  });

  void it('refuses key files other users can read, and says how to fix it', async () => {
    const dir = join(scratch.path, 'b');
    await KeyStore.init(dir, { name: 'x' });
    chmodSync(join(dir, 'signing-key.pem'), 0o644);
    await assert.rejects(
      KeyStore.load(dir),
      /accessible to other users \(mode 644\): run "chmod 600/,
    );
    await assert.rejects(KeyStore.load(join(scratch.path, 'none')), (e) =>
      isVmsightError(e, 'NOT_FOUND'),
    );
  });

  void it('signs custody events that verify only unchanged and under their own key', async () => {
    const keys = await KeyStore.init(join(scratch.path, 'c'), { name: 'signer' });
    const other = await KeyStore.init(join(scratch.path, 'd'), { name: 'other' });
    const event = signCustodyEvent(keys, {
      itemId: 'ev-1',
      seq: 1,
      prevHash: '0'.repeat(64),
      action: 'acquired',
      reason: 'r',
      host: 'h',
      details: { a: 1 },
    });
    assert.equal(custodySignatureValid(event), true);
    assert.equal(
      custodySignatureValid({
        ...event,
        actor: { ...event.actor, signingKey: other.identity.signingKey },
      }),
      false,
    );
    assert.equal(custodySignatureValid({ ...event, hash: 'f'.repeat(64) }), false);
    assert.equal(custodySignatureValid({ ...event, signature: 'AAAA' }), false);
  });

  void it('publishes a public identity that export --to reads back', async () => {
    const keys = await KeyStore.init(join(scratch.path, 'e'), { name: 'analyst' });
    const text = formatPublicIdentity(keys.identity);
    assert.match(text, /^vmsight-public-identity v1\nname: analyst\n/);
    assert.equal(parseRecipientKey(text), keys.identity.encryptionKey);
    assert.equal(
      parseRecipientKey(`x25519:${keys.identity.encryptionKey}`),
      keys.identity.encryptionKey,
    );
    assert.throws(
      () => parseRecipientKey('x25519:short'),
      (e) => isVmsightError(e, 'INVALID_INPUT'),
    );
    assert.throws(
      () => parseRecipientKey('hello'),
      (e) => isVmsightError(e, 'INVALID_ARGUMENT'),
    );
  });
});
