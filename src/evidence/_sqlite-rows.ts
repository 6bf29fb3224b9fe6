import { isJsonObject } from './canonical-json.js';
import type {
  BlobEncoding,
  BlobRole,
  CustodyAction,
  CustodyEvent,
  EvidenceItem,
  ItemBlob,
  ItemOrigin,
  ItemStatus,
} from './evidence-records.js';

/** Row shapes of the evidence database (_schema-migrations.ts) and their mapping to records. */

export interface ItemRow {
  id: string;
  case_id: string;
  kind: 'memory';
  status: ItemStatus;
  origin: ItemOrigin;
  subject: string;
  created_at: string;
  completed_at: string | null;
  owner_pid: number | null;
  owner_host: string;
  image_sha256: string | null;
  image_size: number | null;
  failure: string | null;
}

export interface BlobRow {
  role: BlobRole;
  sha256: string;
  size: number;
  encoding: BlobEncoding;
  content_sha256: string;
  content_size: number;
}

export interface EventRow {
  item_id: string;
  seq: number;
  version: number;
  action: CustodyAction;
  actor_name: string;
  actor_key: string;
  at: string;
  host: string;
  reason: string;
  details: string;
  prev_hash: string;
  hash: string;
  signature: string;
}

const orUndefined = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

export function toItem(row: ItemRow): EvidenceItem {
  return {
    id: row.id,
    caseId: row.case_id,
    kind: row.kind,
    status: row.status,
    origin: row.origin,
    subject: row.subject,
    createdAt: row.created_at,
    completedAt: orUndefined(row.completed_at),
    ownerPid: orUndefined(row.owner_pid),
    ownerHost: row.owner_host,
    imageSha256: orUndefined(row.image_sha256),
    imageSize: orUndefined(row.image_size),
    failure: orUndefined(row.failure),
  };
}

export function toBlob(row: BlobRow): ItemBlob {
  return {
    role: row.role,
    sha256: row.sha256,
    size: row.size,
    encoding: row.encoding,
    contentSha256: row.content_sha256,
    contentSize: row.content_size,
  };
}

/**
 * Rebuilds an event from its row as stored. The details column is parsed, never trusted: a row
 * edited into something that is not a JSON object still becomes an event, whose hash then fails
 * verification, rather than an exception that hides which event was edited.
 */
export function toEvent(row: EventRow): CustodyEvent {
  let details: unknown;
  try {
    details = JSON.parse(row.details);
  } catch {
    details = { unparsable: row.details };
  }
  return {
    version: row.version as 1,
    itemId: row.item_id,
    seq: row.seq,
    action: row.action,
    actor: { name: row.actor_name, signingKey: row.actor_key },
    at: row.at,
    host: row.host,
    reason: row.reason,
    details: isJsonObject(details) ? details : { notAnObject: row.details },
    prevHash: row.prev_hash,
    hash: row.hash,
    signature: row.signature,
  };
}
