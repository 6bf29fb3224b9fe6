import {
  createCipheriv,
  createDecipheriv,
  createHash,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  diffieHellman,
  type KeyObject,
} from 'node:crypto';
import { VmsightError } from '../core/index.js';
import { importPublicKey, rawPublicKey } from './raw-keys.js';

/** The 4-byte magic and format version that open every bundle. */
export const BUNDLE_MAGIC = Buffer.from('VMSB', 'latin1');
export const BUNDLE_VERSION = 1;
/** Plaintext bytes per authenticated chunk. */
export const DEFAULT_CHUNK_SIZE = 1 << 20;
/** Upper bound on a chunk a reader accepts: the header is attacker-controlled. */
export const MAX_CHUNK_SIZE = 16 << 20;
export const TAG_LENGTH = 16;
const ALGORITHM = 'X25519-HKDF-SHA256-AES-256-GCM-STREAM';

/** The bundle's cleartext header: enough for the recipient to derive the key, nothing secret. */
export interface BundleHeader {
  readonly alg: typeof ALGORITHM;
  /** The recipient's X25519 public key (raw, base64url). */
  readonly recipient: string;
  /** The sender's one-time X25519 public key (raw, base64url). */
  readonly ephemeralKey: string;
  /** 32 random bytes, base64url: HKDF salt (RFC 5869 §2.2). */
  readonly salt: string;
  readonly chunkSize: number;
}

/** Key and nonce prefix of one bundle, derived per bundle so that nonces never repeat under a key. */
export interface BundleKeys {
  readonly key: Buffer;
  readonly noncePrefix: Buffer;
}

function derive(shared: Buffer, header: BundleHeader): BundleKeys {
  // RFC 7748 §6.1: an all-zero shared secret means a low-order public key; refuse it.
  if (shared.every((byte) => byte === 0)) {
    throw new VmsightError('INVALID_INPUT', 'Cannot use this X25519 key: it has low order');
  }
  // RFC 5869: extract with the random salt, expand with both public keys bound into `info`.
  const info = Buffer.concat([
    Buffer.from(`vmsight bundle v${BUNDLE_VERSION}\0`, 'latin1'),
    Buffer.from(header.ephemeralKey, 'base64url'),
    Buffer.from(header.recipient, 'base64url'),
  ]);
  const okm = Buffer.from(
    hkdfSync('sha256', shared, Buffer.from(header.salt, 'base64url'), info, 36),
  );
  return { key: okm.subarray(0, 32), noncePrefix: okm.subarray(32, 36) };
}

/** Sender side: a fresh ephemeral key pair per bundle (ECIES-style), and the derived keys. */
export function senderKeys(
  recipientKey: string,
  chunkSize = DEFAULT_CHUNK_SIZE,
): { header: BundleHeader; keys: BundleKeys } {
  const recipient = importPublicKey(recipientKey, 'X25519');
  const ephemeral = generateKeyPairSync('x25519');
  const header: BundleHeader = {
    alg: ALGORITHM,
    recipient: recipientKey,
    ephemeralKey: rawPublicKey(ephemeral.publicKey),
    salt: randomBytes(32).toString('base64url'),
    chunkSize,
  };
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient });
  return { header, keys: derive(shared, header) };
}

/** Recipient side: `agree` is the key store's X25519 (the private key never leaves it). */
export function recipientKeys(
  header: BundleHeader,
  agree: (peer: KeyObject) => Buffer,
): BundleKeys {
  return derive(agree(importPublicKey(header.ephemeralKey, 'X25519')), header);
}

/** Header bytes as written: magic, version, u16 length, JSON. */
export function encodeHeader(header: BundleHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(7);
  BUNDLE_MAGIC.copy(prefix, 0);
  prefix.writeUInt8(BUNDLE_VERSION, 4);
  prefix.writeUInt16BE(json.length, 5);
  return Buffer.concat([prefix, json]);
}

/**
 * NIST SP 800-38D §8.2.1 deterministic IV: 4-byte per-bundle prefix ‖ 64-bit chunk counter. The
 * AAD binds the header (so it cannot be swapped), the counter (so chunks cannot be reordered) and a
 * final-chunk flag (so truncation at a chunk boundary is detected): the STREAM construction of
 * Hoang, Reyhanitabar, Rogaway and Vizár (CRYPTO 2015).
 */
function nonceAndAad(keys: BundleKeys, headerHash: Buffer, index: bigint, final: boolean) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(index);
  const nonce = Buffer.concat([keys.noncePrefix, counter]);
  const aad = Buffer.concat([headerHash, counter, Buffer.from([final ? 1 : 0])]);
  return { nonce, aad };
}

export function headerHash(headerBytes: Uint8Array): Buffer {
  return createHash('sha256').update(headerBytes).digest();
}

/** Encrypts one chunk; returns ciphertext ‖ 16-byte tag. */
export function sealChunk(
  keys: BundleKeys,
  hash: Buffer,
  index: bigint,
  final: boolean,
  plaintext: Uint8Array,
): Buffer {
  const { nonce, aad } = nonceAndAad(keys, hash, index, final);
  const cipher = createCipheriv('aes-256-gcm', keys.key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Decrypts one chunk, or returns undefined when it does not authenticate. */
export function openChunk(
  keys: BundleKeys,
  hash: Buffer,
  index: bigint,
  final: boolean,
  sealed: Uint8Array,
): Buffer | undefined {
  if (sealed.length < TAG_LENGTH) return undefined;
  const { nonce, aad } = nonceAndAad(keys, hash, index, final);
  const decipher = createDecipheriv('aes-256-gcm', keys.key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  try {
    return Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH)),
      decipher.final(),
    ]);
  } catch {
    return undefined;
  }
}
