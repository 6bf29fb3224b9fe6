import { VmsightError } from '../core/index.js';
import { parsePublicKeyLine } from './public-identity.js';
import { keyFingerprint } from './raw-keys.js';

/** The provider an analyst expects a bundle from: a signing key or its fingerprint. */
export interface ExpectedSender {
  readonly signingKey?: string;
  readonly fingerprint?: string;
}

/**
 * Reads `--expect-sender`: `ed25519:KEY`, a file written by `vmsight keys show --public` (its
 * `signing-key:` line), or the 32-hex-digit fingerprint `vmsight keys show` prints.
 */
export function parseExpectedSender(text: string): ExpectedSender {
  const trimmed = text.trim();
  if (/^[0-9a-f]{32}$/.test(trimmed)) return { fingerprint: trimmed };
  return {
    signingKey: parsePublicKeyLine(
      trimmed,
      'signing-key',
      'Cannot find the expected sender: give "ed25519:BASE64URL", its 32-hex-digit fingerprint, or a file written by "vmsight keys show --public"',
    ),
  };
}

/**
 * Refuses a bundle signed by anyone but the expected sender, before anything is stored: without
 * it, import trusts the first key it sees (and prints the fingerprint to confirm out of band).
 */
export function checkExpectedSender(
  expected: ExpectedSender | undefined,
  actualKey: string,
  source: string,
): void {
  if (expected === undefined) return;
  const fingerprint = keyFingerprint(actualKey);
  const ok =
    (expected.signingKey === undefined || expected.signingKey === actualKey) &&
    (expected.fingerprint === undefined || expected.fingerprint === fingerprint);
  if (!ok) {
    throw new VmsightError(
      'INVALID_INPUT',
      `${source} was signed by key ${fingerprint}, not by the expected sender ${expected.fingerprint ?? keyFingerprint(expected.signingKey ?? '')}`,
      { details: { actual: fingerprint } },
    );
  }
}
