/** Test support: a report model of a small, hostile guest (names that are HTML and JSON-LD traps). */
import type { CustodyEvent, EvidenceItem, ItemBlob, JsonValue } from '../../evidence/index.js';
import { buildReportModel, type ReportModel } from '../report-model.js';

const SHA = (c: string): string => c.repeat(64);

export const HOSTILE_COMM = '<script>';

export function sampleReportModel(): ReportModel {
  const item: EvidenceItem = {
    id: 'ev-20261122T050000Z-abc123',
    caseId: 'case-42',
    kind: 'memory',
    status: 'complete',
    origin: 'imported',
    subject: 'tenant-vm "<b>"',
    createdAt: '2026-11-22T05:00:00.000Z',
    completedAt: '2026-11-22T05:00:02.000Z',
    ownerHost: 'hv1',
    imageSha256: SHA('a'),
    imageSize: 1 << 20,
  };
  const blobs: ItemBlob[] = [
    {
      role: 'memory-image',
      sha256: SHA('b'),
      size: 4096,
      encoding: 'zstd',
      contentSha256: SHA('a'),
      contentSize: 1 << 20,
    },
  ];
  const actions = ['acquired', 'stored', 'exported', 'received', 'analysed'] as const;
  const custody: CustodyEvent[] = actions.map((action, i) => ({
    version: 1,
    itemId: item.id,
    seq: i + 1,
    action,
    actor: {
      name: i < 3 ? 'provider' : 'analyst <i>',
      signingKey: i < 3 ? 'A'.repeat(43) : 'B'.repeat(43),
    },
    at: `2026-11-22T05:0${i}:00.000Z`,
    host: 'hv1',
    reason: i === 0 ? 'tenant report & "urgent"' : '',
    details:
      action === 'acquired'
        ? { tool: { name: 'vmsight', version: '0.1.0' }, startedAt: '2026-11-22T04:59:58.000Z' }
        : action === 'analysed'
          ? { tool: { name: 'vmsight', version: '0.1.0' } }
          : {},
    prevHash: i === 0 ? '0'.repeat(64) : SHA(String(i)),
    hash: SHA(String(i + 1)),
    signature: 'c'.repeat(86),
  }));
  const process = (
    pid: number,
    ppid: number,
    comm: string,
    args: string,
    kernelThread = false,
  ) => ({
    pid,
    ppid,
    tgid: pid,
    uid: 0,
    comm,
    state: 'S',
    startTime: pid / 10,
    // The boot instant 2026-11-22T04:00:00Z plus startTime; kernelThread rows have none, as when
    // the boot time is unreadable (and pid 82 a malformed one, as hostile rows could carry).
    ...(kernelThread
      ? {}
      : {
          createTime:
            pid === 82
              ? 'yesterday'
              : new Date(Date.UTC(2026, 10, 22, 4) + pid * 100).toISOString(),
        }),
    cr3: '0x1000',
    task: '0xffff888000000000',
    thread: false,
    kernelThread,
    args,
  });
  const psaux = [
    process(1, 0, 'init', '/sbin/init'),
    process(2, 0, 'kthreadd', '', true),
    process(80, 1, 'nginx', 'nginx: master process'),
    process(81, 80, 'sh', 'sh -c id'),
    process(82, 81, HOSTILE_COMM, '<script>alert(1)</script> "&\''),
  ];
  const pstree = [1, 80, 81, 82, 2].map((pid, i) => ({ pid, depth: [0, 1, 2, 3, 0][i] ?? 0 }));
  const documents = new Map<string, JsonValue>([
    ['linux.psaux', { status: 'ok', rows: psaux }],
    ['linux.pstree', { status: 'ok', rows: pstree }],
    [
      'linux.lsmod',
      { status: 'ok', rows: [{ name: 'e1000', size: 4096, base: '0xffffffffc0000000' }] },
    ],
    [
      'linux.psxview',
      { status: 'ok', rows: [{ pid: 82, comm: HOSTILE_COMM, taskList: false, pidHash: true }] },
    ],
    [
      'vmsight.findings',
      {
        status: 'ok',
        kernel: 'Linux version 6.1.0-56-amd64',
        rows: [
          {
            kind: 'unusual-parent',
            severity: 'high',
            pid: 81,
            comm: 'sh',
            reason: 'shell "sh" (pid 81) was started by network daemon "nginx" (pid 80)',
            evidence: { pid: 81, ppid: 80 },
          },
          {
            kind: 'hidden-process',
            severity: 'critical',
            pid: 82,
            comm: HOSTILE_COMM,
            reason: `pid 82 (${HOSTILE_COMM}) is missing from the tasks view`,
            evidence: { missing: ['tasks'] },
          },
        ],
      },
    ],
  ]);
  return buildReportModel({
    item,
    blobs,
    custody,
    generator: { name: 'vmsight', version: '0.1.0', role: 'reporting' },
    generatedAt: '2026-11-22T06:00:00.000Z',
    analysis: {
      runId: 'an-1',
      createdAt: '2026-11-22T05:04:00.000Z',
      records: [...documents.keys()].map((plugin) => ({
        plugin,
        pluginVersion: '1.0.0',
        resultSha256: SHA('d'),
        rowCount: 1,
      })),
      documents,
    },
  });
}
