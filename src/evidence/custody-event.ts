import { createHash, verify } from 'node:crypto';
import { canonicalJson, type JsonObject } from './canonical-json.js';
import type { CustodyAction, CustodyEvent, CustodyEventBody } from './evidence-records.js';
import type { KeyStore } from './key-store.js';
import { importPublicKey } from './raw-keys.js';

/** Domain separation: a custody signature can never be replayed as another vmsight signature. */
const SIGNING_CONTEXT = Buffer.from('vmsight custody event v1\0', 'latin1');

export interface NewCustodyEvent {
  readonly itemId: string;
  readonly seq: number;
  readonly prevHash: string;
  readonly action: CustodyAction;
  readonly reason: string;
  readonly details: JsonObject;
  readonly host: string;
  readonly at?: string;
}

/** SHA-256 (hex) of the canonical JSON of an event's signed fields. */
export function hashCustodyBody(body: CustodyEventBody): string {
  const signed: JsonObject = {
    version: body.version,
    itemId: body.itemId,
    seq: body.seq,
    action: body.action,
    actor: { name: body.actor.name, signingKey: body.actor.signingKey },
    at: body.at,
    host: body.host,
    reason: body.reason,
    details: body.details,
    prevHash: body.prevHash,
  };
  return createHash('sha256').update(canonicalJson(signed)).digest('hex');
}

function signedBytes(hash: string): Buffer {
  return Buffer.concat([SIGNING_CONTEXT, Buffer.from(hash, 'hex')]);
}

/**
 * Builds, hashes and signs (Ed25519, RFC 8032) one custody event with `keys`.
 *
 * @example
 * ```ts
 * import { signCustodyEvent } from './custody-event.js';
 * const event = signCustodyEvent(keys, {
 *   itemId: 'ev-1', seq: 1, prevHash: '0'.repeat(64), action: 'acquired',
 *   reason: 'tenant report 42', details: {}, host: 'hv1',
 * });
 * ```
 */
export function signCustodyEvent(keys: KeyStore, event: NewCustodyEvent): CustodyEvent {
  const body: CustodyEventBody = {
    version: 1,
    itemId: event.itemId,
    seq: event.seq,
    action: event.action,
    actor: { name: keys.identity.name, signingKey: keys.identity.signingKey },
    at: event.at ?? new Date().toISOString(),
    host: event.host,
    reason: event.reason,
    details: event.details,
    prevHash: event.prevHash,
  };
  const hash = hashCustodyBody(body);
  return { ...body, hash, signature: keys.sign(signedBytes(hash)) };
}

/** True when `event.signature` is `event.actor.signingKey`'s signature of `event.hash`. */
export function custodySignatureValid(event: CustodyEvent): boolean {
  try {
    const key = importPublicKey(event.actor.signingKey, 'Ed25519');
    const signature = Buffer.from(event.signature, 'base64url');
    // Ed25519 signatures are 64 bytes (RFC 8032 §5.1.6); anything else is forged or damaged.
    if (signature.length !== 64 || !/^[0-9a-f]{64}$/.test(event.hash)) return false;
    return verify(null, signedBytes(event.hash), key, signature);
  } catch {
    return false;
  }
}
