import { createHash } from 'node:crypto';
import type { CustodyEvent, JsonObject, JsonValue } from '../evidence/index.js';
import type { ReportModel, ReportProcess, ReportTool } from './report-model.js';

/**
 * The ontology release the CASE output targets: CASE 1.4.0 with UCO 1.4.0 (the releases of
 * github.com/casework/CASE and github.com/ucoProject/UCO tagged 1.4.0). The terms used here are
 * checked against that release's class, property and datatype lists (case-uco.test.ts).
 */
export const CASE_VERSION = '1.4.0';
export const UCO_VERSION = '1.4.0';

/** Every prefix the output uses; the JSON-LD @context is exactly this. */
export const CASE_CONTEXT = {
  kb: 'urn:vmsight:kb:',
  'case-investigation': 'https://ontology.caseontology.org/case/investigation/',
  'uco-action': 'https://ontology.unifiedcyberontology.org/uco/action/',
  'uco-core': 'https://ontology.unifiedcyberontology.org/uco/core/',
  'uco-identity': 'https://ontology.unifiedcyberontology.org/uco/identity/',
  'uco-observable': 'https://ontology.unifiedcyberontology.org/uco/observable/',
  'uco-tool': 'https://ontology.unifiedcyberontology.org/uco/tool/',
  'uco-types': 'https://ontology.unifiedcyberontology.org/uco/types/',
  'uco-vocabulary': 'https://ontology.unifiedcyberontology.org/uco/vocabulary/',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
} as const;

/** Node ids: tenant strings never reach an IRI, only hashes of them and safe ids. */
const safe = (text: string): string => text.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 96);
const digestId = (text: string): string =>
  createHash('sha256').update(text).digest('hex').slice(0, 16);
const ref = (id: string): JsonObject => ({ '@id': id });
const typed = (type: string, value: string | number | boolean): JsonObject => ({
  '@type': type,
  '@value': value,
});
const dateTime = (value: string): JsonObject => typed('xsd:dateTime', value);

/** `uco-types:Hash` nodes for a SHA-256. */
function sha256Node(id: string, hex: string): JsonObject {
  return {
    '@id': id,
    '@type': 'uco-types:Hash',
    'uco-types:hashMethod': typed('uco-vocabulary:HashNameVocab', 'SHA256'),
    'uco-types:hashValue': typed('xsd:hexBinary', hex),
  };
}

/** A file observable with its name, size and SHA-256 (FileFacet + ContentDataFacet). */
function fileObservable(id: string, name: string, size: number, sha256: string): JsonObject {
  return {
    '@id': id,
    '@type': 'uco-observable:File',
    'uco-core:name': name,
    'uco-core:hasFacet': [
      {
        '@id': `${id}-file`,
        '@type': 'uco-observable:FileFacet',
        'uco-observable:fileName': name,
        'uco-observable:sizeInBytes': typed('xsd:integer', size),
      },
      {
        '@id': `${id}-content`,
        '@type': 'uco-observable:ContentDataFacet',
        'uco-observable:sizeInBytes': typed('xsd:integer', size),
        'uco-observable:hash': [sha256Node(`${id}-sha256`, sha256)],
      },
    ],
  };
}

function toolNode(tool: ReportTool): JsonObject {
  return {
    '@id': `kb:tool-${safe(tool.name)}-${safe(tool.version)}`,
    '@type': 'uco-tool:Tool',
    'uco-core:name': tool.name,
    'uco-tool:version': tool.version,
    'uco-tool:toolType': tool.role,
  };
}

function processNode(item: string, process: ReportProcess, byPid: Set<number>): JsonObject {
  const id = `kb:process-${item}-${process.pid}`;
  const facet: Record<string, JsonValue> = {
    '@id': `${id}-facet`,
    '@type': 'uco-observable:ProcessFacet',
    'uco-observable:pid': typed('xsd:integer', process.pid),
    'uco-observable:isHidden': typed('xsd:boolean', !process.inTaskList),
    'uco-observable:status': process.state,
  };
  const args = process.args.split(' ').filter((arg) => arg !== '');
  if (args.length > 0) facet['uco-observable:arguments'] = args;
  if (process.createTime !== null) {
    facet['uco-observable:observableCreatedTime'] = dateTime(process.createTime);
  }
  if (byPid.has(process.ppid) && process.ppid !== process.pid) {
    facet['uco-observable:parent'] = ref(`kb:process-${item}-${process.ppid}`);
  }
  return {
    '@id': id,
    '@type': 'uco-observable:Process',
    'uco-core:name': process.comm,
    // The absolute creation time is the facet's observableCreatedTime (when the guest's boot
    // time was readable); the time since boot (task_struct.start_time) is kept here.
    'uco-core:description': `${process.kernelThread ? 'kernel thread' : 'process'} ${process.comm} (pid ${process.pid}, ppid ${process.ppid}), started ${process.startTime.toFixed(3)} s after the guest booted`,
    'uco-core:hasFacet': [facet],
  };
}

/** CASE names the transfer of evidence between parties one action, from either side's log. */
const ACTION_NAMES: Readonly<Record<string, string>> = {
  acquired: 'acquired',
  stored: 'stored',
  exported: 'transferred',
  received: 'transferred',
  verified: 'verified',
  analysed: 'analysed',
  reported: 'reported',
};

interface GraphParts {
  readonly item: string;
  readonly imageId: string;
  readonly compressedId: string;
  readonly identity: (event: CustodyEvent) => string;
  readonly tool: (event: CustodyEvent) => string | undefined;
  readonly analysisObjects: readonly string[];
}

function custodyActions(model: ReportModel, parts: GraphParts, nodes: JsonObject[]): string[] {
  const ids: string[] = [];
  for (const event of model.custody) {
    const id = `kb:action-${parts.item}-${event.seq}`;
    const node: Record<string, JsonValue> = {
      '@id': id,
      '@type': 'case-investigation:InvestigativeAction',
      'uco-core:name': ACTION_NAMES[event.action] ?? event.action,
      'uco-core:description': `custody event #${event.seq} "${event.action}" at ${event.host}${event.reason === '' ? '' : `: ${event.reason}`} (event SHA-256 ${event.hash}, Ed25519 signature ${event.signature})`,
      'uco-action:startTime': dateTime(event.at),
      'uco-action:endTime': dateTime(event.at),
      'uco-action:performer': ref(parts.identity(event)),
    };
    const tool = parts.tool(event);
    if (tool !== undefined) node['uco-action:instrument'] = ref(tool);
    if (event.action === 'acquired') {
      const startedAt = event.details['startedAt'];
      if (typeof startedAt === 'string') node['uco-action:startTime'] = dateTime(startedAt);
      const provenance = `kb:provenance-${parts.item}-${event.seq}`;
      nodes.push({
        '@id': provenance,
        '@type': 'case-investigation:ProvenanceRecord',
        'case-investigation:exhibitNumber': model.item.id,
        'uco-core:description': 'guest memory image as acquired (ELF core, uncompressed hash)',
        'uco-core:object': [ref(parts.imageId)],
      });
      node['uco-action:result'] = [ref(parts.imageId), ref(provenance)];
      nodes.push(node);
      ids.push(id);
      // The zstd compression happens in the same pass; CASE gets it as its own action.
      const compressed = `kb:action-${parts.item}-${event.seq}-compressed`;
      nodes.push({
        '@id': compressed,
        '@type': 'case-investigation:InvestigativeAction',
        'uco-core:name': 'compressed',
        'uco-core:description': `memory image compressed with ${model.image.encoding} into the blob store`,
        'uco-action:startTime': dateTime(event.at),
        'uco-action:endTime': dateTime(event.at),
        'uco-action:performer': ref(parts.identity(event)),
        ...(tool === undefined ? {} : { 'uco-action:instrument': ref(tool) }),
        'uco-action:object': [ref(parts.imageId)],
        'uco-action:result': [ref(parts.compressedId)],
      });
      ids.push(compressed);
      continue;
    }
    node['uco-action:object'] = [ref(parts.imageId)];
    if (event.action === 'analysed' && parts.analysisObjects.length > 0) {
      const provenance = `kb:provenance-${parts.item}-${event.seq}`;
      nodes.push({
        '@id': provenance,
        '@type': 'case-investigation:ProvenanceRecord',
        'case-investigation:exhibitNumber': model.item.id,
        'uco-core:description': 'processes and findings recovered from the memory image',
        'uco-core:object': parts.analysisObjects.map(ref),
      });
      node['uco-action:result'] = [ref(provenance)];
    }
    if (event.action === 'reported') {
      const sha = event.details['sha256'];
      const size = event.details['size'];
      const format = event.details['format'];
      if (typeof sha === 'string' && typeof size === 'number' && typeof format === 'string') {
        const fileId = `kb:report-${safe(sha.slice(0, 16))}`;
        nodes.push(fileObservable(fileId, `report.${safe(format)}`, size, sha));
        node['uco-action:result'] = [ref(fileId)];
      }
    }
    nodes.push(node);
    ids.push(id);
  }
  return ids;
}

/**
 * The report as a CASE/UCO JSON-LD graph: the investigation, one investigative action per custody
 * event (plus the compression of the acquisition), provenance records, the memory image (and its
 * compressed blob) with their SHA-256, the tools with versions, the custody actors, every process
 * as an observable with its ProcessFacet, and each finding as an annotation on its process.
 */
export function renderCase(model: ReportModel): JsonObject {
  const item = safe(model.item.id);
  const nodes: JsonObject[] = [];
  const imageId = `kb:memory-image-${model.image.sha256.slice(0, 16)}`;
  const compressedId = `kb:blob-${model.image.storedSha256.slice(0, 16)}`;
  nodes.push(fileObservable(imageId, `${model.item.id}.elf`, model.image.size, model.image.sha256));
  nodes.push(
    fileObservable(
      compressedId,
      `${model.image.storedSha256}.${model.image.encoding === 'zstd' ? 'zst' : 'bin'}`,
      model.image.storedSize,
      model.image.storedSha256,
    ),
  );
  const identities = new Map<string, JsonObject>();
  for (const event of model.custody) {
    const id = `kb:identity-${digestId(event.actor.signingKey)}`;
    identities.set(id, {
      '@id': id,
      '@type': 'uco-identity:Identity',
      'uco-core:name': event.actor.name,
      'uco-core:description': `Ed25519 signing key ${event.actor.signingKey}`,
    });
  }
  nodes.push(...identities.values());
  const tools = model.tools.map(toolNode);
  nodes.push(...tools);
  const toolFor = (role: string): string | undefined =>
    tools.find((tool) => tool['uco-tool:toolType'] === role)?.['@id'] as string | undefined;
  const byPid = new Set(model.processes.map((p) => p.pid));
  const processIds: string[] = [];
  for (const process of model.processes) {
    const node = processNode(item, process, byPid);
    processIds.push(node['@id'] as string);
    nodes.push(node);
  }
  const findingIds: string[] = [];
  model.findings.forEach((finding, index) => {
    const id = `kb:finding-${item}-${index + 1}`;
    findingIds.push(id);
    nodes.push({
      '@id': id,
      '@type': 'uco-core:Annotation',
      'uco-core:name': finding.kind,
      'uco-core:statement': finding.reason,
      'uco-core:tag': [finding.kind, `severity:${finding.severity}`],
      'uco-core:description': JSON.stringify(finding.evidence),
      'uco-core:object': [
        ref(byPid.has(finding.pid) ? `kb:process-${item}-${finding.pid}` : imageId),
      ],
    });
  });
  const actionIds = custodyActions(
    model,
    {
      item,
      imageId,
      compressedId,
      identity: (event) => `kb:identity-${digestId(event.actor.signingKey)}`,
      tool: (event) =>
        event.action === 'acquired' || event.action === 'stored'
          ? toolFor('acquisition')
          : event.action === 'analysed'
            ? toolFor('analysis')
            : undefined,
      analysisObjects: [...processIds, ...findingIds],
    },
    nodes,
  );
  const reportAction = `kb:action-${item}-report-${digestId(model.generatedAt)}`;
  nodes.push({
    '@id': reportAction,
    '@type': 'case-investigation:InvestigativeAction',
    'uco-core:name': 'reported',
    'uco-core:description': `this report, generated by ${model.generator.name} ${model.generator.version}; its SHA-256 and signature are in the next custody event`,
    'uco-action:startTime': dateTime(model.generatedAt),
    'uco-action:endTime': dateTime(model.generatedAt),
    ...(toolFor('reporting') === undefined
      ? {}
      : { 'uco-action:instrument': ref(toolFor('reporting') ?? '') }),
    'uco-action:object': [ref(imageId)],
  });
  nodes.unshift({
    '@id': `kb:investigation-${safe(model.item.caseId)}`,
    '@type': 'case-investigation:Investigation',
    'uco-core:name': `case ${model.item.caseId}`,
    'case-investigation:focus': 'guest memory forensics',
    'uco-core:description': `Evidence item ${model.item.id} of subject ${model.item.subject}; CASE ${CASE_VERSION}, UCO ${UCO_VERSION}`,
    'uco-core:object': [imageId, compressedId, ...actionIds, reportAction].map(ref),
  });
  return { '@context': { ...CASE_CONTEXT }, '@graph': nodes };
}
