import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { QmpClient } from '../connectors/index.js';
import { VmsightError, type ProgressListener } from '../core/index.js';
import {
  BlobStore,
  EvidenceLocker,
  KeyStore,
  SqliteEvidenceStore,
  formatPublicIdentity,
  keyFingerprint,
  parseRecipientKey,
  qmpMemoryCapture,
  removeStaleFifos,
  type EvidenceItem,
  type ExportResult,
  type ImportResult,
  type ItemDetails,
  type PublicIdentity,
  type VerificationReport,
} from '../evidence/index.js';
import { vmsightHome } from '../lab/index.js';
import { VERSION } from './version.js';
import { resolveVm } from './vm-registry.js';

/** Where a party keeps its keys and evidence: `--home`, else `$VMSIGHT_HOME`, else `.vmsight`. */
export interface EvidenceHomeOption {
  readonly home?: string;
}

export interface EvidencePaths {
  readonly home: string;
  readonly keys: string;
  readonly evidence: string;
  readonly database: string;
  readonly blobs: string;
  readonly tmp: string;
}

/** The files of one party's evidence store and key store. */
export function evidencePaths(options: EvidenceHomeOption = {}): EvidencePaths {
  const home = options.home === undefined ? vmsightHome() : resolve(options.home);
  const evidence = join(home, 'evidence');
  return {
    home,
    keys: join(home, 'keys'),
    evidence,
    database: join(evidence, 'evidence.db'),
    blobs: join(evidence, 'blobs'),
    tmp: join(evidence, 'tmp'),
  };
}

export interface KeysSummary {
  readonly dir: string;
  readonly identity: PublicIdentity;
  readonly signingFingerprint: string;
  readonly encryptionFingerprint: string;
  /** The text `evidence export --to FILE` reads. */
  readonly publicText: string;
}

function summarise(keys: KeyStore): KeysSummary {
  return {
    dir: keys.dir,
    identity: keys.identity,
    signingFingerprint: keyFingerprint(keys.identity.signingKey),
    encryptionFingerprint: keyFingerprint(keys.identity.encryptionKey),
    publicText: formatPublicIdentity(keys.identity),
  };
}

/** `vmsight keys init`. */
export async function initKeys(
  options: EvidenceHomeOption & { readonly name: string; readonly force?: boolean },
): Promise<KeysSummary> {
  const keys = await KeyStore.init(evidencePaths(options).keys, {
    name: options.name,
    force: options.force === true,
  });
  return summarise(keys);
}

/** `vmsight keys show`. */
export async function showKeys(options: EvidenceHomeOption = {}): Promise<KeysSummary> {
  return summarise(await KeyStore.load(evidencePaths(options).keys));
}

/**
 * Opens this party's locker (keys, database, blobs), recovering from crashed runs first, runs
 * `action`, and closes the database whatever happens.
 */
async function withLocker<T>(
  options: EvidenceHomeOption,
  action: (locker: EvidenceLocker, paths: EvidencePaths) => Promise<T>,
): Promise<T> {
  const paths = evidencePaths(options);
  const keys = await KeyStore.load(paths.keys);
  await mkdir(paths.evidence, { recursive: true, mode: 0o700 });
  const store = SqliteEvidenceStore.open(paths.database);
  try {
    const locker = new EvidenceLocker({
      store,
      blobs: new BlobStore(paths.blobs),
      keys,
      tool: { name: 'vmsight', version: VERSION },
    });
    await locker.recover();
    await removeStaleFifos(paths.tmp);
    return await action(locker, paths);
  } finally {
    store.close();
  }
}

export interface AcquireEvidenceOptions extends EvidenceHomeOption {
  readonly vm: string;
  readonly caseId?: string;
  readonly reason?: string;
  readonly pause?: boolean;
  readonly onProgress?: ProgressListener;
}

/** `vmsight evidence acquire --vm NAME`. */
export async function acquireEvidence(options: AcquireEvidenceOptions): Promise<EvidenceItem> {
  const vm = await resolveVm(options.vm);
  return withLocker(options, async (locker, paths) => {
    const qmp = await QmpClient.connect(vm.qmpSocket);
    try {
      return await locker.acquire({
        subject: vm.name,
        ...(options.caseId === undefined ? {} : { caseId: options.caseId }),
        ...(options.reason === undefined ? {} : { reason: options.reason }),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
        capture: qmpMemoryCapture({
          qmp,
          vmName: vm.name,
          pause: options.pause === true,
          fifoParent: paths.tmp,
          identity: {
            source: vm.source,
            qmpSocket: vm.qmpSocket,
            ...(vm.pid === undefined ? {} : { qemuPid: vm.pid }),
          },
        }),
      });
    } finally {
      await qmp.close();
    }
  });
}

/** `vmsight evidence list`. */
export function listEvidence(
  options: EvidenceHomeOption & { readonly caseId?: string } = {},
): Promise<EvidenceItem[]> {
  return withLocker(options, (locker) =>
    locker.list(options.caseId === undefined ? {} : { caseId: options.caseId }),
  );
}

/** `vmsight evidence show ID`. */
export function showEvidence(id: string, options: EvidenceHomeOption = {}): Promise<ItemDetails> {
  return withLocker(options, (locker) => locker.show(id));
}

/** `vmsight evidence verify ID`. */
export function verifyEvidence(
  id: string,
  options: EvidenceHomeOption & {
    readonly record?: boolean;
    readonly onProgress?: ProgressListener;
  } = {},
): Promise<VerificationReport> {
  return withLocker(options, (locker) =>
    locker.verify(id, {
      record: options.record !== false,
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    }),
  );
}

/** `--to`: a bare `x25519:KEY`, or a file holding `vmsight keys show --public` output. */
async function readRecipient(to: string): Promise<string> {
  if (to.startsWith('x25519:')) return parseRecipientKey(to);
  let text: string;
  try {
    text = await readFile(to, 'utf8');
  } catch (error) {
    throw new VmsightError(
      'NOT_FOUND',
      `Cannot read the analyst's public key "${to}": give "x25519:KEY" or a file from "vmsight keys show --public"`,
      { cause: error },
    );
  }
  return parseRecipientKey(text);
}

export interface ExportEvidenceOptions extends EvidenceHomeOption {
  readonly to: string;
  readonly output: string;
  readonly pseudonymise?: boolean;
  readonly reason?: string;
  readonly onProgress?: ProgressListener;
}

/** `vmsight evidence export ID --to KEY -o bundle.vmsb`. */
export async function exportEvidence(
  id: string,
  options: ExportEvidenceOptions,
): Promise<ExportResult> {
  const recipientKey = await readRecipient(options.to);
  return withLocker(options, (locker) =>
    locker.export(id, {
      recipientKey,
      output: resolve(options.output),
      pseudonymise: options.pseudonymise === true,
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    }),
  );
}

/** `vmsight evidence import bundle.vmsb` (the analyst's side). */
export function importEvidence(
  path: string,
  options: EvidenceHomeOption & {
    readonly reason?: string;
    readonly onProgress?: ProgressListener;
  } = {},
): Promise<ImportResult> {
  return withLocker(options, (locker) =>
    locker.import(resolve(path), {
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    }),
  );
}
