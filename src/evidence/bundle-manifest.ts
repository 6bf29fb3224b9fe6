import { createHash, verify } from 'node:crypto';
import { VmsightError } from '../core/index.js';
import { canonicalJson, isJsonObject, type JsonObject } from './canonical-json.js';
import type { BlobRole, CustodyEvent, ItemBlob } from './evidence-records.js';
import type { KeyStore } from './key-store.js';
import { importPublicKey } from './raw-keys.js';

const SIGNING_CONTEXT = Buffer.from('vmsight bundle manifest v1\0', 'latin1');

/** What a bundle holds, signed by its sender; blobs follow it in `blobs` order. */
export interface BundleManifest {
  readonly format: 'vmsight-bundle';
  readonly version: 1;
  readonly createdAt: string;
  readonly sender: { readonly name: string; readonly signingKey: string };
  readonly recipient: { readonly encryptionKey: string };
  readonly caseId: string;
  readonly item: {
    readonly id: string;
    readonly kind: 'memory';
    /** The VM's name, or its pseudonym with `--pseudonymise`. */
    readonly subject: string;
    readonly createdAt: string;
    readonly imageSha256: string;
    readonly imageSize: number;
  };
  readonly pseudonymised: boolean;
  /** Blobs in the bundle, in the order their bytes follow the manifest. */
  readonly blobs: readonly ItemBlob[];
  /** Roles the signed custody log lists that the sender left out. */
  readonly withheld: readonly BlobRole[];
  readonly custody: readonly CustodyEvent[];
}

function digest(manifestJson: string): Buffer {
  return Buffer.concat([SIGNING_CONTEXT, createHash('sha256').update(manifestJson).digest()]);
}

/** Canonical JSON of the manifest and the sender's Ed25519 signature of it. */
export function signManifest(
  keys: KeyStore,
  manifest: BundleManifest,
): { json: string; signature: string } {
  const json = canonicalJson(manifest as unknown as JsonObject);
  return { json, signature: keys.sign(digest(json)) };
}

/**
 * Parses and authenticates a manifest from a bundle: the JSON must be canonical (so the signed
 * bytes are the parsed bytes) and signed by the `sender.signingKey` it names. Whether that sender
 * is who the recipient expects is the caller's decision (it is shown in the custody log).
 */
export function openManifest(json: string, signature: string, source: string): BundleManifest {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new VmsightError('INVALID_INPUT', `${source}: the manifest is not JSON`, {
      cause: error,
    });
  }
  if (
    !isJsonObject(value) ||
    value['format'] !== 'vmsight-bundle' ||
    value['version'] !== 1 ||
    !isJsonObject(value['sender']) ||
    typeof value['sender']['signingKey'] !== 'string' ||
    !isJsonObject(value['item']) ||
    !Array.isArray(value['blobs']) ||
    !Array.isArray(value['custody']) ||
    !Array.isArray(value['withheld'])
  ) {
    throw new VmsightError(
      'INVALID_INPUT',
      `${source}: the manifest is not a vmsight bundle manifest`,
    );
  }
  if (canonicalJson(value) !== json) {
    throw new VmsightError('INVALID_INPUT', `${source}: the manifest is not in canonical form`);
  }
  const key = importPublicKey(value['sender']['signingKey'], 'Ed25519');
  const bytes = Buffer.from(signature, 'base64url');
  if (bytes.length !== 64 || !verify(null, digest(json), key, bytes)) {
    throw new VmsightError(
      'INVALID_INPUT',
      `${source}: the manifest signature is not valid for its sender key`,
    );
  }
  return value as unknown as BundleManifest;
}
