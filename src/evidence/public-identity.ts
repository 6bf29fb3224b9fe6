import { VmsightError } from '../core/index.js';
import { importPublicKey, keyFingerprint } from './raw-keys.js';

/** What a party publishes: its name, Ed25519 signing key and X25519 encryption key (raw, base64url). */
export interface PublicIdentity {
  readonly name: string;
  readonly signingKey: string;
  readonly encryptionKey: string;
}

const HEADER = 'vmsight-public-identity v1';

/**
 * The text form `vmsight keys show` prints and `evidence export --to` reads.
 *
 * @example
 * ```ts
 * import { formatPublicIdentity, parseRecipientKey } from './public-identity.js';
 * const text = formatPublicIdentity({ name: 'analyst', signingKey: 'A…', encryptionKey: 'B…' });
 * parseRecipientKey(text); // 'B…'
 * ```
 */
export function formatPublicIdentity(identity: PublicIdentity): string {
  return [
    HEADER,
    `name: ${identity.name}`,
    `signing-key: ed25519:${identity.signingKey}`,
    `encryption-key: x25519:${identity.encryptionKey}`,
    `fingerprint: ${keyFingerprint(identity.encryptionKey)}`,
    '',
  ].join('\n');
}

/**
 * A public key from the text of a public identity file (its `field:` line) or a bare
 * `scheme:BASE64URL`, checked to be a valid 32-byte key; `missing` is the error message when
 * there is none.
 */
export function parsePublicKeyLine(
  text: string,
  field: 'encryption-key' | 'signing-key',
  missing: string,
): string {
  const scheme = field === 'encryption-key' ? 'x25519' : 'ed25519';
  const pattern = new RegExp(`(?:^|\\n)(?:${field}:\\s*)?${scheme}:([A-Za-z0-9_-]+)\\s*(?:\\n|$)`);
  const match = pattern.exec(text.trim());
  if (match?.[1] === undefined) throw new VmsightError('INVALID_ARGUMENT', missing);
  importPublicKey(match[1], field === 'encryption-key' ? 'X25519' : 'Ed25519');
  return match[1];
}

/**
 * The X25519 key to encrypt to, from the text of a public identity file or a bare
 * `x25519:BASE64URL`. The key is checked to be a valid 32-byte key.
 */
export function parseRecipientKey(text: string): string {
  return parsePublicKeyLine(
    text,
    'encryption-key',
    'Cannot find an X25519 public key: give "x25519:BASE64URL" or a file written by "vmsight keys show --public"',
  );
}
