import { verify } from 'node:crypto';
import type { KeyStore } from './key-store.js';
import { importPublicKey } from './raw-keys.js';

/** Domain separation from custody signatures (custody-event.ts): a report signature is only that. */
const REPORT_CONTEXT = Buffer.from('vmsight report v1\0', 'latin1');
const SHA256_HEX = /^[0-9a-f]{64}$/;

function signedBytes(sha256: string): Buffer {
  return Buffer.concat([REPORT_CONTEXT, Buffer.from(sha256, 'hex')]);
}

/** Ed25519 (RFC 8032) signature, base64url, of a report file's SHA-256. */
export function signReportHash(keys: KeyStore, sha256: string): string {
  return keys.sign(signedBytes(sha256));
}

/**
 * True when `signature` is `signerKey`'s signature of a report whose SHA-256 is `sha256`:
 * `sha256sum report.pdf` and the signer's public key are all a reader of the report needs.
 */
export function reportSignatureValid(
  sha256: string,
  signature: string,
  signerKey: string,
): boolean {
  try {
    const bytes = Buffer.from(signature, 'base64url');
    if (bytes.length !== 64 || !SHA256_HEX.test(sha256)) return false;
    return verify(null, signedBytes(sha256), importPublicKey(signerKey, 'Ed25519'), bytes);
  } catch {
    return false;
  }
}
