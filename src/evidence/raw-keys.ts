import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { VmsightError } from '../core/index.js';

/** The raw 32-byte public key (RFC 8032 §5.1.5 / RFC 7748 §5) of an OKP key, base64url. */
export function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') {
    throw new VmsightError('INTERNAL', 'Cannot export a raw public key: the key is not an OKP key');
  }
  return jwk.x;
}

/**
 * Imports a raw public key written by `rawPublicKey`. The bytes are attacker-controlled when they
 * come from a bundle or a database row, so the length is checked before OpenSSL sees them.
 */
export function importPublicKey(raw: string, curve: 'Ed25519' | 'X25519'): KeyObject {
  const bytes = Buffer.from(raw, 'base64url');
  if (bytes.length !== 32 || bytes.toString('base64url') !== raw) {
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot read ${curve} public key "${raw.slice(0, 48)}": expected 32 bytes in base64url`,
    );
  }
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: curve, x: raw }, format: 'jwk' });
  } catch (error) {
    throw new VmsightError('INVALID_INPUT', `Cannot read ${curve} public key "${raw}"`, {
      cause: error,
    });
  }
}

/** A short name for a raw public key: the first 16 bytes of its SHA-256, in hex. */
export function keyFingerprint(raw: string): string {
  return createHash('sha256').update(Buffer.from(raw, 'base64url')).digest('hex').slice(0, 32);
}
