import type {
  CustodyEvent,
  EvidenceItem,
  Finding,
  ItemBlob,
  JsonObject,
  JsonValue,
} from '../evidence/index.js';

/** A process as the report shows it (from psaux, with pstree's depth). */
export interface ReportProcess {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly args: string;
  readonly uid: number | null;
  /** Seconds since the guest booted (task_struct.start_time). */
  readonly startTime: number;
  /**
   * When it was created, ISO-8601 UTC (pslist's createTime: boot instant + start_boottime); null
   * when the guest's boot time could not be read.
   */
  readonly createTime: string | null;
  readonly kernelThread: boolean;
  readonly state: string;
  /** Depth in the process tree (0 for roots). */
  readonly depth: number;
  /** False when psxview found it missing from the task list. */
  readonly inTaskList: boolean;
}

export interface ReportModule {
  readonly name: string;
  readonly size: number;
  readonly base: string;
}

export interface ReportPluginRun {
  readonly plugin: string;
  readonly version: string;
  readonly status: string;
  readonly rows: number;
  readonly sha256: string;
}

export interface ReportTool {
  readonly name: string;
  readonly version: string;
  /** What it did: acquisition, analysis or reporting. */
  readonly role: string;
}

/**
 * Everything a report says, in one JSON-serialisable document (`--format json` prints it as is);
 * the CASE, HTML and PDF renderers read only this.
 */
export interface ReportModel {
  readonly schema: 'vmsight-report/1';
  readonly generatedAt: string;
  readonly generator: ReportTool;
  readonly item: EvidenceItem;
  readonly image: {
    readonly sha256: string;
    readonly size: number;
    readonly storedSha256: string;
    readonly storedSize: number;
    readonly encoding: string;
  };
  readonly blobs: readonly ItemBlob[];
  readonly custody: readonly CustodyEvent[];
  readonly tools: readonly ReportTool[];
  readonly analysis?: {
    readonly runId: string;
    readonly createdAt: string;
    readonly kernel: string;
    readonly plugins: readonly ReportPluginRun[];
  };
  readonly processes: readonly ReportProcess[];
  readonly modules: readonly ReportModule[];
  readonly findings: readonly Finding[];
}

export interface ReportInputs {
  readonly item: EvidenceItem;
  readonly blobs: readonly ItemBlob[];
  readonly custody: readonly CustodyEvent[];
  readonly generator: ReportTool;
  readonly generatedAt?: string;
  readonly analysis?: {
    readonly runId: string;
    readonly createdAt: string;
    readonly records: readonly {
      readonly plugin: string;
      readonly pluginVersion: string;
      readonly resultSha256: string;
      readonly rowCount: number;
    }[];
    readonly documents: ReadonlyMap<string, JsonValue>;
  };
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function rowsOf(
  documents: ReadonlyMap<string, JsonValue> | undefined,
  plugin: string,
): JsonObject[] {
  const document = documents?.get(plugin);
  if (!isObject(document)) return [];
  const rows = document['rows'];
  return Array.isArray(rows) ? rows.filter(isObject) : [];
}

const num = (value: JsonValue | undefined): number => (typeof value === 'number' ? value : 0);
/** The form pslist writes (Date.toISOString()), so the CASE xsd:dateTime literal is valid. */
const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const instant = (value: JsonValue | undefined): string | null =>
  typeof value === 'string' && ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value))
    ? value
    : null;
const str = (value: JsonValue | undefined): string => (typeof value === 'string' ? value : '');

/** The tool a custody event names (`details.tool`), when it names one. */
function toolOf(event: CustodyEvent): ReportTool | undefined {
  const tool = event.details['tool'];
  if (!isObject(tool)) return undefined;
  const name = str(tool['name']);
  const version = str(tool['version']);
  if (name === '') return undefined;
  return { name, version, role: event.action === 'acquired' ? 'acquisition' : 'analysis' };
}

/**
 * Joins an item, its custody log and its latest analysis into the report model. Processes come
 * from psaux (pslist when psaux did not run) ordered as pstree orders them.
 */
export function buildReportModel(inputs: ReportInputs): ReportModel {
  const documents = inputs.analysis?.documents;
  const image = inputs.blobs.find((blob) => blob.role === 'memory-image');
  const psaux = rowsOf(documents, 'linux.psaux');
  const listed = psaux.length > 0 ? psaux : rowsOf(documents, 'linux.pslist');
  const depth = new Map(
    rowsOf(documents, 'linux.pstree').map((r) => [num(r['pid']), num(r['depth'])]),
  );
  const order = new Map(rowsOf(documents, 'linux.pstree').map((r, i) => [num(r['pid']), i]));
  const hidden = new Set(
    rowsOf(documents, 'linux.psxview')
      .filter((r) => r['taskList'] === false)
      .map((r) => num(r['pid'])),
  );
  const processes: ReportProcess[] = listed
    .filter((r) => r['thread'] !== true)
    .map((r) => ({
      pid: num(r['pid']),
      ppid: num(r['ppid']),
      comm: str(r['comm']),
      args: str(r['args']),
      uid: typeof r['uid'] === 'number' ? r['uid'] : null,
      startTime: num(r['startTime']),
      createTime: instant(r['createTime']),
      kernelThread: r['kernelThread'] === true,
      state: str(r['state']),
      depth: depth.get(num(r['pid'])) ?? 0,
      inTaskList: !hidden.has(num(r['pid'])),
    }))
    .sort(
      (a, b) =>
        (order.get(a.pid) ?? Number.MAX_SAFE_INTEGER) -
          (order.get(b.pid) ?? Number.MAX_SAFE_INTEGER) || a.pid - b.pid,
    );
  const modules = rowsOf(documents, 'linux.lsmod').map((r) => ({
    name: str(r['name']),
    size: num(r['size']),
    base: str(r['base']),
  }));
  const findings = rowsOf(documents, 'vmsight.findings') as unknown as Finding[];
  const tools = new Map<string, ReportTool>();
  for (const event of inputs.custody) {
    const tool = toolOf(event);
    if (tool !== undefined) tools.set(`${tool.role} ${tool.name} ${tool.version}`, tool);
  }
  tools.set('reporting', { ...inputs.generator, role: 'reporting' });
  const findingsDocument = documents?.get('vmsight.findings');
  return {
    schema: 'vmsight-report/1',
    generatedAt: inputs.generatedAt ?? new Date().toISOString(),
    generator: inputs.generator,
    item: inputs.item,
    image: {
      sha256: inputs.item.imageSha256 ?? image?.contentSha256 ?? '',
      size: inputs.item.imageSize ?? image?.contentSize ?? 0,
      storedSha256: image?.sha256 ?? '',
      storedSize: image?.size ?? 0,
      encoding: image?.encoding ?? '',
    },
    blobs: inputs.blobs,
    custody: inputs.custody,
    tools: [...tools.values()],
    ...(inputs.analysis === undefined
      ? {}
      : {
          analysis: {
            runId: inputs.analysis.runId,
            createdAt: inputs.analysis.createdAt,
            kernel: isObject(findingsDocument) ? str(findingsDocument['kernel']) : '',
            plugins: inputs.analysis.records.map((record) => {
              const document = documents?.get(record.plugin);
              return {
                plugin: record.plugin,
                version: record.pluginVersion,
                status: isObject(document) ? str(document['status']) : 'missing',
                rows: record.rowCount,
                sha256: record.resultSha256,
              };
            }),
          },
        }),
    processes,
    modules,
    findings,
  };
}
