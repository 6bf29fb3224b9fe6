import type { JsonObject } from './canonical-json.js';

/** Lifecycle of an evidence item. Only `complete` items have blobs and custody events. */
export const ItemStatus = {
  ACQUIRING: 'acquiring',
  COMPLETE: 'complete',
  FAILED: 'failed',
} as const;
export type ItemStatus = (typeof ItemStatus)[keyof typeof ItemStatus];

/** Where an item came from: acquired here, or received in a bundle from another party. */
export const ItemOrigin = { ACQUIRED: 'acquired', IMPORTED: 'imported' } as const;
export type ItemOrigin = (typeof ItemOrigin)[keyof typeof ItemOrigin];

/** What a blob is to its item. */
export const BlobRole = {
  /** The ELF core from `dump-guest-memory`, zstd-compressed. */
  MEMORY_IMAGE: 'memory-image',
  /** Hardware facts: QMP query-* results, vCPU registers, tool version. */
  VM_CONFIG: 'vm-config',
  /** What identifies the tenant: VM name, UUID, devices' paths; withheld by `--pseudonymise`. */
  VM_IDENTITY: 'vm-identity',
  /** Results of `vmsight analyze` (seam for the introspection plugins). */
  ANALYSIS: 'analysis',
  /** A rendered report (seam for `vmsight report`). */
  REPORT: 'report',
} as const;
export type BlobRole = (typeof BlobRole)[keyof typeof BlobRole];

/** How a blob's stored bytes encode its content. */
export type BlobEncoding = 'zstd' | 'none';

export interface CaseRecord {
  readonly id: string;
  readonly createdAt: string;
}

export interface EvidenceItem {
  readonly id: string;
  readonly caseId: string;
  readonly kind: 'memory';
  readonly status: ItemStatus;
  readonly origin: ItemOrigin;
  /** The VM's name for acquired items; a pseudonym when a pseudonymised bundle was imported. */
  readonly subject: string;
  readonly createdAt: string;
  readonly completedAt?: string | undefined;
  /** The acquiring process, so that a crashed acquisition can be told from a running one. */
  readonly ownerPid?: number | undefined;
  readonly ownerHost: string;
  readonly imageSha256?: string | undefined;
  readonly imageSize?: number | undefined;
  readonly failure?: string | undefined;
}

/** One blob of an item: `sha256`/`size` of the stored bytes, `content*` of what they encode. */
export interface ItemBlob {
  readonly role: BlobRole;
  readonly sha256: string;
  readonly size: number;
  readonly encoding: BlobEncoding;
  readonly contentSha256: string;
  readonly contentSize: number;
}

/** The custody actions of issue 6. */
export const CustodyAction = {
  ACQUIRED: 'acquired',
  STORED: 'stored',
  EXPORTED: 'exported',
  RECEIVED: 'received',
  VERIFIED: 'verified',
  ANALYSED: 'analysed',
  REPORTED: 'reported',
} as const;
export type CustodyAction = (typeof CustodyAction)[keyof typeof CustodyAction];

/** Who acted: a display name and the Ed25519 public key (raw 32 bytes, base64url) that signed. */
export interface CustodyActor {
  readonly name: string;
  readonly signingKey: string;
}

/** The signed part of a custody event: who, what, when, where and why, chained by `prevHash`. */
export interface CustodyEventBody {
  readonly version: 1;
  readonly itemId: string;
  /** 1, 2, 3… within the item. */
  readonly seq: number;
  readonly action: CustodyAction;
  readonly actor: CustodyActor;
  readonly at: string;
  readonly host: string;
  readonly reason: string;
  readonly details: JsonObject;
  /** `hash` of the previous event of the item; 64 zeros for the first. */
  readonly prevHash: string;
}

export interface CustodyEvent extends CustodyEventBody {
  /** SHA-256 (hex) of the canonical JSON of the body. */
  readonly hash: string;
  /** Ed25519 signature (base64url) by `actor.signingKey` over the hash (see custody-event.ts). */
  readonly signature: string;
}

/** The `prevHash` of an item's first event. */
export const GENESIS_HASH = '0'.repeat(64);
