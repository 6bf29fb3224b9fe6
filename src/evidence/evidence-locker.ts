import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import { VmsightError, type ProgressListener } from '../core/index.js';
import { isProcessAlive, type BlobStore } from './blob-store.js';
import { exportBundle, type ExportOptions, type ExportResult } from './bundle-export.js';
import { importBundle, type ImportOptions, type ImportResult } from './bundle-import.js';
import { canonicalJson, type JsonObject } from './canonical-json.js';
import { signCustodyEvent } from './custody-event.js';
import { extractMemoryImage, type MemoryImageFile } from './memory-image-file.js';
import {
  loadAnalysisRun,
  nextCustodyEvent,
  recordAnalysisRun,
  recordReportFile,
  type AnalysisRun,
  type AnalysisRunInput,
  type LoadedAnalysisRun,
  type ReportInput,
} from './work-product-ledger.js';
import type { ReportRecord } from './work-products.js';
import {
  BlobRole,
  type CustodyAction,
  type CustodyEvent,
  type EvidenceItem,
  type ItemBlob,
} from './evidence-records.js';
import type { EvidenceStore } from './evidence-store.js';
import { verifyItem, type VerificationReport } from './evidence-verifier.js';
import { checkWorkProducts } from './work-product-verifier.js';
import { storeBytes, storeStream, type StoredDigest } from './hashing-compressor.js';
import type { KeyStore } from './key-store.js';
import {
  DEFAULT_CASE,
  blobJson,
  checkId,
  newItemId,
  requireItem,
  signNextEvent,
  toItemBlob,
  trustedKeys,
  type LockerContext,
} from './_locker-context.js';

export type { ExportOptions, ExportResult } from './bundle-export.js';
export type { ImportOptions, ImportResult } from './bundle-import.js';

/** The acquiring tool, recorded in every acquisition ("acquisition tool's version"). */
export interface ToolInfo {
  readonly name: string;
  readonly version: string;
}

export interface EvidenceLockerOptions {
  readonly store: EvidenceStore;
  readonly blobs: BlobStore;
  readonly keys: KeyStore;
  readonly tool: ToolInfo;
  /** "Where" in custody events. Default: this host's name. */
  readonly host?: string;
}

/** Streams the memory image into the store; call it exactly once per capture. */
export type ImageSink = (
  image: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  expectedBytes?: number,
) => Promise<StoredDigest>;

/** What a capture reports besides the image itself. */
export interface CaptureRecord {
  /** Tenant-identifying facts (VM name, UUID, device paths): withheld by `--pseudonymise`. */
  readonly identity: JsonObject;
  /** Hardware facts: QMP query-* results, vCPU registers. */
  readonly config: JsonObject;
  /** How the image was taken (command, format, whether the VM was paused). */
  readonly method: JsonObject;
  readonly startedAt: string;
  readonly finishedAt: string;
}

export interface AcquireOptions {
  /** The VM's name (the item's subject). */
  readonly subject: string;
  readonly caseId?: string;
  readonly reason?: string;
  /** Takes the image: calls `sink` once with the image stream and returns the facts around it. */
  readonly capture: (sink: ImageSink) => Promise<CaptureRecord>;
  readonly onProgress?: ProgressListener;
}

export interface ItemDetails {
  readonly item: EvidenceItem;
  readonly blobs: readonly ItemBlob[];
  readonly events: readonly CustodyEvent[];
  /** The `vm-config` document, when present. */
  readonly config?: JsonObject;
}

/**
 * The evidence workflow over one store, blob store and key store: acquire, verify, export to an
 * analyst, import from a provider. Every custody event it writes is signed with `keys`; every
 * state change is one store transaction, made only after the blobs it names are on disk.
 *
 * @example
 * ```ts
 * import { EvidenceLocker } from './evidence-locker.js';
 * const locker = new EvidenceLocker({ store, blobs, keys, tool: { name: 'vmsight', version: '0.1.0' } });
 * const report = await locker.verify('ev-20261122T033000Z-1a2b3c');
 * ```
 */
export class EvidenceLocker {
  readonly store: EvidenceStore;
  readonly blobs: BlobStore;
  readonly #keys: KeyStore;
  readonly #tool: ToolInfo;
  readonly #host: string;

  constructor(options: EvidenceLockerOptions) {
    this.store = options.store;
    this.blobs = options.blobs;
    this.#keys = options.keys;
    this.#tool = options.tool;
    this.#host = options.host ?? hostname();
  }

  /**
   * Cleans up after crashed runs: `acquiring` items whose process on this host is gone become
   * `failed`, and their temporary blob files are removed. Safe while other acquisitions run.
   */
  async recover(): Promise<{ failedItems: string[]; removedTempFiles: string[] }> {
    const failedItems = await this.store.failAbandoned(
      (item) =>
        item.ownerHost !== this.#host ||
        (item.ownerPid !== undefined && isProcessAlive(item.ownerPid)),
    );
    const removedTempFiles = await this.blobs.removeStaleTemp();
    return { failedItems, removedTempFiles };
  }

  async acquire(options: AcquireOptions): Promise<EvidenceItem> {
    const caseId = options.caseId ?? DEFAULT_CASE;
    checkId('case id', caseId);
    const now = new Date();
    const itemId = newItemId(now);
    await this.store.ensureCase({ id: caseId, createdAt: now.toISOString() });
    await this.store.beginItem({
      id: itemId,
      caseId,
      kind: 'memory',
      status: 'acquiring',
      origin: 'acquired',
      subject: options.subject,
      createdAt: now.toISOString(),
      ownerPid: process.pid,
      ownerHost: this.#host,
    });
    try {
      let image: StoredDigest | undefined;
      const sink: ImageSink = async (stream, expectedBytes) => {
        if (image !== undefined) {
          throw new VmsightError('INTERNAL', 'A capture stored its image twice');
        }
        image = await storeStream(this.blobs, stream, {
          encoding: 'zstd',
          owner: itemId,
          onBytes: (done) =>
            options.onProgress?.({
              label: 'acquire',
              done,
              ...(expectedBytes === undefined ? {} : { total: expectedBytes }),
            }),
        });
        return image;
      };
      const record = await options.capture(sink);
      if (image === undefined) {
        throw new VmsightError('INTERNAL', 'A capture finished without storing an image');
      }
      // Threat: guessable identities (VM names) could be recovered from their hash by an analyst
      // who sees only the hash of a withheld identity document; the random nonce prevents it.
      const identity = { ...record.identity, nonce: randomBytes(16).toString('hex') };
      const config = record.config;
      const identityDigest = await storeBytes(this.blobs, Buffer.from(canonicalJson(identity)), {
        encoding: 'none',
        owner: itemId,
      });
      const configDigest = await storeBytes(this.blobs, Buffer.from(canonicalJson(config)), {
        encoding: 'none',
        owner: itemId,
      });
      const blobs = [
        toItemBlob(BlobRole.MEMORY_IMAGE, image, 'zstd'),
        toItemBlob(BlobRole.VM_CONFIG, configDigest, 'none'),
        toItemBlob(BlobRole.VM_IDENTITY, identityDigest, 'none'),
      ];
      const reason = options.reason ?? '';
      const acquired = signCustodyEvent(this.#keys, {
        itemId,
        seq: 1,
        prevHash: '0'.repeat(64),
        action: 'acquired',
        reason,
        host: this.#host,
        at: record.finishedAt,
        // No case id or VM name here: the signed log travels in pseudonymised bundles too, and
        // the identity document (withheld there) is committed to by its hash instead.
        details: {
          method: record.method,
          startedAt: record.startedAt,
          finishedAt: record.finishedAt,
          tool: { name: this.#tool.name, version: this.#tool.version },
          image: { sha256: image.contentSha256, size: image.contentSize },
          configSha256: configDigest.contentSha256,
          identitySha256: identityDigest.contentSha256,
        },
      });
      const stored = signNextEvent(this.#context(), acquired, {
        itemId,
        action: 'stored',
        reason,
        details: { store: 'content-addressed sha256', blobs: blobs.map(blobJson) },
      });
      await this.store.completeItem({
        itemId,
        completedAt: stored.at,
        imageSha256: image.contentSha256,
        imageSize: image.contentSize,
        blobs,
        events: [acquired, stored],
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.store.failItem(itemId, message).catch(() => undefined);
      throw error;
    }
    return requireItem(this.store, itemId);
  }

  /** Verifies an item; on success appends a signed `verified` event unless `record` is false. */
  async verify(
    itemId: string,
    options: { readonly record?: boolean; readonly onProgress?: ProgressListener } = {},
  ): Promise<VerificationReport> {
    let report = await verifyItem(this.store, this.blobs, itemId, {
      trustedKeys: await trustedKeys(this.#keys),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    });
    if (report.ok) {
      // Analyses and reports are evidence too: their hashes must be the ones custody signed.
      const events = await this.store.getEvents(itemId);
      const products = await checkWorkProducts(this.store, this.blobs, itemId, events);
      report = {
        ...report,
        blobsChecked: report.blobsChecked + products.checked,
        ...(products.problem === undefined ? {} : { ok: false, problem: products.problem }),
      };
    }
    if (report.ok && options.record !== false) {
      await this.#append(itemId, 'verified', '', {
        eventsChecked: report.eventsChecked,
        blobsChecked: report.blobsChecked,
      });
    }
    return report;
  }

  async list(filter: { readonly caseId?: string } = {}): Promise<EvidenceItem[]> {
    return this.store.listItems(filter);
  }

  async show(itemId: string): Promise<ItemDetails> {
    const item = await requireItem(this.store, itemId);
    const blobs = await this.store.getBlobs(itemId);
    const events = await this.store.getEvents(itemId);
    const configBlob = blobs.find((blob) => blob.role === BlobRole.VM_CONFIG);
    let config: JsonObject | undefined;
    if (configBlob !== undefined && (await this.blobs.has(configBlob.sha256))) {
      const text = await readFile(this.blobs.pathOf(configBlob.sha256), 'utf8');
      try {
        config = JSON.parse(text) as JsonObject;
      } catch {
        config = undefined;
      }
    }
    return { item, blobs, events, ...(config === undefined ? {} : { config }) };
  }

  /** Seals an item for an analyst; see bundle-export.ts. */
  export(itemId: string, options: ExportOptions): Promise<ExportResult> {
    return exportBundle(this.#context(), itemId, options);
  }

  /** Accepts a bundle sent to this party; see bundle-import.ts. */
  import(path: string, options: ImportOptions = {}): Promise<ImportResult> {
    return importBundle(this.#context(), path, options);
  }

  /** Decompresses the memory image to a file under `dir`, checking its hash (memory-image-file.ts). */
  extractImage(
    itemId: string,
    dir: string,
    onProgress?: ProgressListener,
  ): Promise<MemoryImageFile> {
    return extractMemoryImage(this.store, this.blobs, itemId, dir, onProgress);
  }

  /** Stores an analysis run with its signed `analysed` event (work-product-ledger.ts). */
  recordAnalysis(itemId: string, input: AnalysisRunInput): Promise<AnalysisRun> {
    return recordAnalysisRun(this.#context(), itemId, input);
  }

  /** The latest (or the named) analysis run with its documents, hash-checked. */
  analysis(itemId: string, runId?: string): Promise<LoadedAnalysisRun | undefined> {
    return loadAnalysisRun(this.#context(), itemId, runId);
  }

  /** Signs and records a rendered report with a `reported` event (work-product-ledger.ts). */
  recordReport(
    itemId: string,
    input: ReportInput,
  ): Promise<{ record: ReportRecord; event: CustodyEvent }> {
    return recordReportFile(this.#context(), itemId, input);
  }

  #context(): LockerContext {
    return { store: this.store, blobs: this.blobs, keys: this.#keys, host: this.#host };
  }

  async #append(
    itemId: string,
    action: CustodyAction,
    reason: string,
    details: JsonObject,
  ): Promise<CustodyEvent> {
    const event = await nextCustodyEvent(this.#context(), itemId, action, reason, details);
    await this.store.appendEvents(itemId, [event]);
    return event;
  }
}
