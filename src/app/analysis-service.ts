import { VmsightError, type ProgressListener } from '../core/index.js';
import {
  findFindings,
  type Finding,
  type JsonObject,
  type JsonValue,
  type MappingFacts,
  type ProcessFacts,
  type SocketFacts,
  type TaskViewFacts,
} from '../evidence/index.js';
import {
  checkRequirements,
  lsmodPlugin,
  lsofPlugin,
  mapsPlugin,
  psauxPlugin,
  pslistPlugin,
  pstreePlugin,
  psxviewPlugin,
  sockstatPlugin,
  type LinuxPlugin,
} from '../plugins/index.js';
import type { IntrospectionWarning } from '../symbols/index.js';
import { withLocker, type EvidenceHomeOption } from './evidence-service.js';
import { openIntrospection } from './introspection-service.js';
import { VERSION } from './version.js';

type AnyPlugin = LinuxPlugin<object, object>;

/**
 * The plugins `vmsight analyze` runs, in order: processes (pslist, psaux, pstree), modules,
 * the hidden-process cross-check, then per-process memory maps, open files and sockets.
 */
const ANALYSIS_PLUGINS: readonly AnyPlugin[] = [
  pslistPlugin,
  psauxPlugin,
  pstreePlugin,
  lsmodPlugin,
  psxviewPlugin,
  mapsPlugin,
  lsofPlugin,
  sockstatPlugin,
] as unknown as AnyPlugin[];

/** The id under which the findings are stored beside the plugins' results. */
export const FINDINGS_RESULT = 'vmsight.findings';

export interface PluginOutcome {
  readonly plugin: string;
  readonly version: string;
  /** `skipped`: the symbol table lacks what it needs; `failed`: guest memory defeated it. */
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly rows: number;
  readonly warnings: number;
  readonly reason?: string;
}

export interface AnalysisOutcome {
  readonly source: string;
  readonly kernel: string;
  readonly plugins: readonly PluginOutcome[];
  readonly findings: readonly Finding[];
  /** Set when the results were stored for an evidence item. */
  readonly itemId?: string;
  readonly runId?: string;
  readonly imageSha256?: string;
}

interface PluginDocument {
  readonly outcome: PluginOutcome;
  readonly document: JsonObject;
}

/** Plugin rows as JSON: guest addresses (bigint) as "0x…" strings, undefined as null. */
function toJsonRow(row: object): JsonObject {
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === 'bigint') out[key] = `0x${value.toString(16)}`;
    else if (value === undefined) out[key] = null;
    else out[key] = value as JsonValue;
  }
  return out;
}

function warningJson(warning: IntrospectionWarning): JsonValue {
  return JSON.parse(
    JSON.stringify(warning, (_key, item: unknown) =>
      typeof item === 'bigint' ? `0x${item.toString(16)}` : item,
    ),
  ) as JsonValue;
}

/** Caps what one plugin's warnings may add to the stored result (hostile memory can warn a lot). */
const MAX_STORED_WARNINGS = 1000;

async function runPlugins(
  dump: string,
  options: AnalyzeOptions,
): Promise<{ source: string; kernel: string; documents: PluginDocument[] }> {
  const opened = await openIntrospection({
    dump,
    kernel: options.kernel,
    isf: options.isf,
  });
  try {
    const documents: PluginDocument[] = [];
    for (const plugin of ANALYSIS_PLUGINS) {
      const base = { plugin: plugin.id, version: plugin.version };
      const missing = checkRequirements(plugin, opened.profile);
      if (missing.length > 0) {
        const reason = `the symbol table lacks ${missing.join(', ')}`;
        documents.push({
          outcome: { ...base, status: 'skipped', rows: 0, warnings: 0, reason },
          document: { status: 'skipped', reason, rows: [] },
        });
        continue;
      }
      const warnings: IntrospectionWarning[] = [];
      try {
        const rows = [
          ...plugin.run({ profile: opened.profile, warn: (w) => warnings.push(w) }, {}),
        ].map(toJsonRow);
        documents.push({
          outcome: { ...base, status: 'ok', rows: rows.length, warnings: warnings.length },
          document: {
            status: 'ok',
            rows,
            warnings: warnings.slice(0, MAX_STORED_WARNINGS).map(warningJson),
          },
        });
      } catch (error) {
        if (!(error instanceof VmsightError) || plugin === (pslistPlugin as unknown)) throw error;
        documents.push({
          outcome: {
            ...base,
            status: 'failed',
            rows: 0,
            warnings: warnings.length,
            reason: error.message,
          },
          document: { status: 'failed', reason: error.message, rows: [] },
        });
      }
    }
    return { source: opened.source, kernel: opened.profile.banner.trim(), documents };
  } finally {
    await opened.close();
  }
}

function rowsOf<T>(documents: readonly PluginDocument[], plugin: string): T[] | undefined {
  const found = documents.find((d) => d.outcome.plugin === plugin);
  if (found === undefined || found.outcome.status !== 'ok') return undefined;
  return found.document['rows'] as unknown as T[];
}

function findingsOf(documents: readonly PluginDocument[]): Finding[] {
  return findFindings({
    processes: rowsOf<ProcessFacts>(documents, pslistPlugin.id) ?? [],
    taskViews: rowsOf<TaskViewFacts>(documents, psxviewPlugin.id),
    mappings: rowsOf<MappingFacts>(documents, mapsPlugin.id),
    sockets: rowsOf<SocketFacts>(documents, sockstatPlugin.id),
  });
}

export interface AnalyzeOptions {
  /** vmlinux with BTF; default: the lab's when its banner matches (introspection-service.ts). */
  readonly kernel?: string | undefined;
  readonly isf?: string | undefined;
}

/** `vmsight analyze --dump FILE`: the same plugins and findings on a dump, nothing stored. */
export async function analyzeDump(
  dump: string,
  options: AnalyzeOptions = {},
): Promise<AnalysisOutcome> {
  const { source, kernel, documents } = await runPlugins(dump, options);
  return {
    source,
    kernel,
    plugins: documents.map((d) => d.outcome),
    findings: findingsOf(documents),
  };
}

export interface AnalyzeEvidenceOptions extends EvidenceHomeOption, AnalyzeOptions {
  readonly reason?: string;
  readonly onProgress?: ProgressListener;
}

/**
 * `vmsight analyze EVIDENCE_ID`: decompresses the item's memory image to a private temporary file
 * (hash-checked against the custody log), runs the analysis plugins, flags findings, and stores
 * every result with a signed `analysed` custody event. The temporary file is removed afterwards.
 */
export function analyzeEvidence(
  itemId: string,
  options: AnalyzeEvidenceOptions = {},
): Promise<AnalysisOutcome> {
  return withLocker(options, async (locker, paths) => {
    const image = await locker.extractImage(itemId, paths.work, options.onProgress);
    try {
      const { kernel, documents } = await runPlugins(image.path, options);
      const findings = findingsOf(documents);
      const run = await locker.recordAnalysis(itemId, {
        ...(options.reason === undefined ? {} : { reason: options.reason }),
        summary: {
          tool: { name: 'vmsight', version: VERSION },
          image: { sha256: image.sha256, size: image.size },
          kernel,
          findings: findings.length,
        },
        results: [
          ...documents.map((d) => ({
            plugin: d.outcome.plugin,
            pluginVersion: d.outcome.version,
            rowCount: d.outcome.rows,
            document: d.document,
          })),
          {
            plugin: FINDINGS_RESULT,
            pluginVersion: VERSION,
            rowCount: findings.length,
            document: { status: 'ok', kernel, rows: findings as unknown as JsonValue[] },
          },
        ],
      });
      return {
        source: `evidence "${itemId}"`,
        kernel,
        plugins: documents.map((d) => d.outcome),
        findings,
        itemId,
        runId: run.runId,
        imageSha256: image.sha256,
      };
    } finally {
      await image.remove();
    }
  });
}
