import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmsightError } from '../core/index.js';
import type { PublicIdentity } from './public-identity.js';
import { rawPublicKey } from './raw-keys.js';

const SIGNING_FILE = 'signing-key.pem';
const ENCRYPTION_FILE = 'encryption-key.pem';
const IDENTITY_FILE = 'identity.json';
const TRUSTED_FILE = 'trusted-signers.json';

/** A signing key this party accepts in custody logs besides its own, and why. */
export interface TrustedSigner {
  readonly name: string;
  readonly signingKey: string;
  readonly addedAt: string;
  readonly how: string;
}

export interface KeyStoreInitOptions {
  /** Shown in custody events as "who". */
  readonly name: string;
  /** Replace existing keys. Default false: existing keys are never overwritten silently. */
  readonly force?: boolean;
}

async function assertPrivate(path: string): Promise<void> {
  const info = await stat(path);
  // Threat: a key file others can read lets them sign custody events or open bundles as us.
  if ((info.mode & 0o077) !== 0) {
    throw new VmsightError(
      'INVALID_INPUT',
      `Key file "${path}" is accessible to other users (mode ${(info.mode & 0o777).toString(8)}): run "chmod 600 ${path}"`,
      { details: { path } },
    );
  }
}

/**
 * A party's key pair set: Ed25519 for signing custody events and manifests (RFC 8032) and X25519
 * for receiving bundles (RFC 7748). Private keys stay in `#private` fields and in PKCS#8 files of
 * mode 0600 inside a directory of mode 0700.
 *
 * @example
 * ```ts
 * import { KeyStore } from './key-store.js';
 * const keys = await KeyStore.init('/tmp/keys', { name: 'provider' });
 * const signature = keys.sign(Buffer.from('hello'));
 * ```
 */
export class KeyStore {
  readonly dir: string;
  readonly identity: PublicIdentity;
  readonly #signing: KeyObject;
  readonly #encryption: KeyObject;

  private constructor(
    dir: string,
    identity: PublicIdentity,
    signing: KeyObject,
    encryption: KeyObject,
  ) {
    this.dir = dir;
    this.identity = identity;
    this.#signing = signing;
    this.#encryption = encryption;
  }

  /** Generates fresh keys in `dir`. */
  static async init(dir: string, options: KeyStoreInitOptions): Promise<KeyStore> {
    if (!options.force && (await KeyStore.exists(dir))) {
      throw new VmsightError(
        'INVALID_ARGUMENT',
        `Keys already exist in "${dir}": use --force to replace them (evidence they signed stays verifiable with the old public key only)`,
      );
    }
    if (options.name.trim() === '' || options.name.length > 200) {
      throw new VmsightError('INVALID_ARGUMENT', 'A key owner name needs 1 to 200 characters');
    }
    const previous =
      options.force === true ? await KeyStore.load(dir).catch(() => undefined) : undefined;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const signing = generateKeyPairSync('ed25519');
    const encryption = generateKeyPairSync('x25519');
    const identity: PublicIdentity = {
      name: options.name,
      signingKey: rawPublicKey(signing.publicKey),
      encryptionKey: rawPublicKey(encryption.publicKey),
    };
    const files: [string, string][] = [
      [SIGNING_FILE, signing.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()],
      [ENCRYPTION_FILE, encryption.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()],
      [
        IDENTITY_FILE,
        `${JSON.stringify({ ...identity, createdAt: new Date().toISOString() }, null, 2)}\n`,
      ],
    ];
    for (const [name, text] of files) {
      const path = join(dir, name);
      await writeFile(path, text, { mode: 0o600 });
      await chmod(path, 0o600);
    }
    const keys = new KeyStore(dir, identity, signing.privateKey, encryption.privateKey);
    if (previous !== undefined) {
      // Evidence signed with the replaced key must stay verifiable here.
      for (const signer of await previous.trustedSigners()) await keys.trust(signer, signer.how);
      await keys.trust(
        previous.identity,
        "this party's previous key, replaced by keys init --force",
      );
    }
    return keys;
  }

  static async exists(dir: string): Promise<boolean> {
    return stat(join(dir, SIGNING_FILE)).then(
      () => true,
      () => false,
    );
  }

  /** Loads the keys in `dir`; `NOT_FOUND` (with the command to run) when there are none. */
  static async load(dir: string): Promise<KeyStore> {
    if (!(await KeyStore.exists(dir))) {
      throw new VmsightError(
        'NOT_FOUND',
        `No keys in "${dir}": run "vmsight keys init --name NAME" first`,
        { details: { dir } },
      );
    }
    const paths = [SIGNING_FILE, ENCRYPTION_FILE, IDENTITY_FILE].map((name) => join(dir, name));
    for (const path of paths) await assertPrivate(path);
    try {
      const [signingPem, encryptionPem, identityText] = await Promise.all(
        paths.map((path) => readFile(path, 'utf8')),
      );
      const signing = createPrivateKey(signingPem ?? '');
      const encryption = createPrivateKey(encryptionPem ?? '');
      const stored = JSON.parse(identityText ?? '') as { name?: unknown };
      if (signing.asymmetricKeyType !== 'ed25519' || encryption.asymmetricKeyType !== 'x25519') {
        throw new Error('unexpected key types');
      }
      const identity: PublicIdentity = {
        name: typeof stored.name === 'string' ? stored.name : 'unnamed',
        signingKey: rawPublicKey(createPublicKey(signing)),
        encryptionKey: rawPublicKey(createPublicKey(encryption)),
      };
      return new KeyStore(dir, identity, signing, encryption);
    } catch (error) {
      if (error instanceof VmsightError) throw error;
      throw new VmsightError('INVALID_INPUT', `Cannot read the keys in "${dir}"`, {
        cause: error,
      });
    }
  }

  /**
   * Signing keys this party accepts in custody logs besides its own: its replaced keys, and the
   * signers of bundles it imported (trust on first use, shown by `evidence import`). Kept beside
   * the private keys, not in the evidence database, so that editing the database cannot add one.
   */
  async trustedSigners(): Promise<TrustedSigner[]> {
    const path = join(this.dir, TRUSTED_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return [];
    }
    await assertPrivate(path);
    try {
      const parsed = JSON.parse(text) as { signers?: TrustedSigner[] };
      return Array.isArray(parsed.signers) ? parsed.signers : [];
    } catch (error) {
      throw new VmsightError('INVALID_INPUT', `Cannot read trusted signers "${path}"`, {
        cause: error,
      });
    }
  }

  /** Adds a signing key to `trustedSigners` (no-op when present). */
  async trust(
    signer: { readonly name: string; readonly signingKey: string },
    how: string,
  ): Promise<void> {
    const signers = await this.trustedSigners();
    if (signer.signingKey === this.identity.signingKey) return;
    if (signers.some((known) => known.signingKey === signer.signingKey)) return;
    signers.push({
      name: signer.name,
      signingKey: signer.signingKey,
      addedAt: new Date().toISOString(),
      how,
    });
    const path = join(this.dir, TRUSTED_FILE);
    await writeFile(`${path}.tmp`, `${JSON.stringify({ signers }, null, 2)}\n`, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }

  /** Ed25519 signature (RFC 8032 §5.1.6, pure: no pre-hash) of `data`, base64url. */
  sign(data: Uint8Array): string {
    return sign(null, data, this.#signing).toString('base64url');
  }

  /** The X25519 shared secret with `peer` (RFC 7748 §6.1). */
  agree(peer: KeyObject): Buffer {
    return diffieHellman({ privateKey: this.#encryption, publicKey: peer });
  }

  /**
   * A stable pseudonym for `value` (a VM name, a case id) that only this key holder can recompute:
   * HMAC-SHA256 under a key derived (RFC 5869) from the signing key, so the provider can map a
   * pseudonym back to its tenant and nobody else can.
   */
  pseudonym(prefix: string, value: string): string {
    const secret = this.#signing.export({ format: 'der', type: 'pkcs8' });
    const key = Buffer.from(hkdfSync('sha256', secret, 'vmsight', 'pseudonym v1', 32));
    return `${prefix}-${createHmac('sha256', key).update(value).digest('hex').slice(0, 16)}`;
  }
}
