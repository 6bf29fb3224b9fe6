import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { QmpClient } from '../connectors/index.js';
import { VmsightError, type ProgressListener } from '../core/index.js';
import {
  BlobStore,
  EvidenceLocker,
  collectUnreferencedBlobs,
  type CollectResult,
  KeyStore,
  SqliteEvidenceStore,
  formatPublicIdentity,
  keyFingerprint,
  parseExpectedSender,
  parseRecipientKey,
  qmpMemoryCapture,
  removeStaleFifos,
  removeStaleImages,
  shmMemoryCapture,
  type EvidenceItem,
  type ExpectedSender,
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
  /** Decompressed images while `analyze` runs (removed after, and at open after a crash). */
  readonly work: string;
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
    work: join(evidence, 'work'),
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
export async function withLocker<T>(
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
    await removeStaleImages(paths.work);
    return await action(locker, paths);
  } finally {
    store.close();
  }
}

function requireRamPath(vm: { readonly name: string; readonly ramPath?: string }): string {
  if (vm.ramPath === undefined) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `VM "${vm.name}" has no shared memory file: register it with "vmsight vm add --ram FILE" or acquire with --from qmp`,
    );
  }
  return vm.ramPath;
}

export interface AcquireEvidenceOptions extends EvidenceHomeOption {
  readonly vm: string;
  readonly caseId?: string;
  readonly reason?: string;
  readonly pause?: boolean;
  /**
   * `qmp` (default): QMP dump-guest-memory into a FIFO. `shm`: read the shared memory backend
   * file (the guest is paused throughout; needs a VM registered with --ram or a lab VM).
   */
  readonly from?: 'qmp' | 'shm';
  readonly onProgress?: ProgressListener;
  /**
   * An open QMP connection to the VM to use (and leave open): QEMU's QMP socket serves one client
   * at a time, so a caller already connected (`vmsight watch`) cannot connect a second.
   */
  readonly qmp?: QmpClient;
}

/** `vmsight evidence acquire --vm NAME [--from qmp|shm]`. */
export async function acquireEvidence(options: AcquireEvidenceOptions): Promise<EvidenceItem> {
  const vm = await resolveVm(options.vm);
  const identity = {
    source: vm.source,
    qmpSocket: vm.qmpSocket,
    ...(vm.pid === undefined ? {} : { qemuPid: vm.pid }),
  };
  if (options.from === 'shm') requireRamPath(vm);
  return withLocker(options, async (locker, paths) => {
    const qmp = options.qmp ?? (await QmpClient.connect(vm.qmpSocket));
    try {
      return await locker.acquire({
        subject: vm.name,
        ...(options.caseId === undefined ? {} : { caseId: options.caseId }),
        ...(options.reason === undefined ? {} : { reason: options.reason }),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
        capture:
          options.from === 'shm'
            ? shmMemoryCapture({ qmp, vmName: vm.name, ramPath: requireRamPath(vm), identity })
            : qmpMemoryCapture({
                qmp,
                vmName: vm.name,
                pause: options.pause === true,
                fifoParent: paths.tmp,
                identity,
              }),
      });
    } finally {
      if (options.qmp === undefined) await qmp.close();
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

/**
 * A key argument: the key itself when `literal` says so, else a file holding it (typically
 * `vmsight keys show --public` output); `what` and `forms` word the error for a missing file.
 */
async function readKeyArgument<T>(
  argument: string,
  literal: boolean,
  parse: (text: string) => T,
  what: string,
  forms: string,
): Promise<T> {
  if (literal) return parse(argument);
  let text: string;
  try {
    text = await readFile(argument, 'utf8');
  } catch (error) {
    throw new VmsightError(
      'NOT_FOUND',
      `Cannot read ${what} "${argument}": give ${forms} or a file from "vmsight keys show --public"`,
      { cause: error },
    );
  }
  return parse(text);
}

/** `--to`: a bare `x25519:KEY`, or a file holding `vmsight keys show --public` output. */
function readRecipient(to: string): Promise<string> {
  return readKeyArgument(
    to,
    to.startsWith('x25519:'),
    parseRecipientKey,
    "the analyst's public key",
    '"x25519:KEY"',
  );
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

/** `--expect-sender`: `ed25519:KEY`, a fingerprint, or a file from `vmsight keys show --public`. */
function readExpectedSender(text: string): Promise<ExpectedSender> {
  return readKeyArgument(
    text,
    text.startsWith('ed25519:') || /^[0-9a-f]{32}$/.test(text),
    parseExpectedSender,
    'the expected sender',
    '"ed25519:KEY", a fingerprint,',
  );
}

/** `vmsight evidence import bundle.vmsb [--expect-sender KEY]` (the analyst's side). */
export async function importEvidence(
  path: string,
  options: EvidenceHomeOption & {
    readonly reason?: string;
    readonly expectSender?: string;
    readonly onProgress?: ProgressListener;
  } = {},
): Promise<ImportResult> {
  const expectSender =
    options.expectSender === undefined ? undefined : await readExpectedSender(options.expectSender);
  return withLocker(options, (locker) =>
    locker.import(resolve(path), {
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(expectSender === undefined ? {} : { expectSender }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    }),
  );
}

/** `vmsight evidence gc`: removes blobs nothing references (left by crashed runs). */
export function collectEvidenceGarbage(
  options: EvidenceHomeOption & { readonly graceMinutes?: number; readonly dryRun?: boolean } = {},
): Promise<CollectResult> {
  return withLocker(options, (locker) =>
    collectUnreferencedBlobs(locker.store, locker.blobs, {
      graceMs: (options.graceMinutes ?? 60) * 60_000,
      dryRun: options.dryRun === true,
    }),
  );
}
