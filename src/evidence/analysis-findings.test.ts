import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findFindings, type ProcessFacts } from './analysis-findings.js';

const proc = (pid: number, ppid: number, comm: string, kernelThread = false): ProcessFacts => ({
  pid,
  ppid,
  comm,
  kernelThread,
});

const BASE = [
  proc(0, 0, 'swapper/0', true),
  proc(1, 0, 'init'),
  proc(2, 0, 'kthreadd', true),
  proc(30, 2, 'kworker/0:1', true),
  proc(100, 1, 'sshd'),
  proc(101, 100, 'bash'),
];

void describe('findings', () => {
  void it('a clean system has none (sshd starting bash, init under the idle task)', () => {
    assert.deepEqual(findFindings({ processes: BASE }), []);
  });

  void it('flags a shell started by a web server and a user process under a kernel thread', () => {
    const findings = findFindings({
      processes: [...BASE, proc(200, 1, 'nginx'), proc(201, 200, 'sh'), proc(300, 30, 'evil')],
    });
    assert.deepEqual(
      findings.map((f) => [f.kind, f.severity, f.pid, f.comm]),
      [
        ['unusual-parent', 'high', 201, 'sh'],
        ['unusual-parent', 'medium', 300, 'evil'],
      ],
    );
    assert.match(findings[0]?.reason ?? '', /network daemon "nginx" \(pid 200\)/);
  });

  void it('flags tasks unlinked from the task list as critical hidden processes', () => {
    const view = { taskList: true, pidHash: true, children: true, runQueue: false, state: 'S' };
    const findings = findFindings({
      processes: BASE,
      taskViews: [
        { pid: 1, comm: 'init', ...view, suspicious: false },
        { pid: 666, comm: 'rootkit', ...view, taskList: false, children: false, suspicious: true },
      ],
    });
    assert.equal(findings.length, 1);
    assert.equal(findings[0]?.severity, 'critical');
    assert.deepEqual(findings[0]?.evidence['missing'], ['tasks', 'children']);
  });

  void it('flags executable mappings of deleted and memory-only files, once per process and file', () => {
    const findings = findFindings({
      processes: BASE,
      mappings: [
        { pid: 5, comm: 'x', flags: 'r-xp', path: '/tmp/x (deleted)' },
        { pid: 5, comm: 'x', flags: 'r-xp', path: '/tmp/x (deleted)' },
        { pid: 5, comm: 'x', flags: 'rw-p', path: '/tmp/data (deleted)' },
        { pid: 6, comm: 'y', flags: 'r-xp', path: '/memfd:payload (deleted)' },
        { pid: 7, comm: 'z', flags: 'r-xp', path: '/usr/bin/z' },
        { pid: 8, comm: 'w', flags: 'r-xp', path: undefined },
      ],
    });
    assert.deepEqual(
      findings.map((f) => [f.kind, f.pid]),
      [
        ['deleted-executable', 5],
        ['deleted-executable', 6],
      ],
    );
    assert.match(findings[1]?.reason ?? '', /memory-only file/);
  });

  void it('flags bind and reverse shells, not a shell with a unix socket or a listening daemon', () => {
    const socket = {
      family: 'AF_INET',
      protocol: 'TCP',
      localAddress: '0.0.0.0',
      localPort: 4444,
      remoteAddress: '0.0.0.0',
      remotePort: 0,
    };
    const findings = findFindings({
      processes: BASE,
      sockets: [
        { pid: 10, comm: 'sh', fd: 3, state: 'LISTEN', ...socket },
        {
          pid: 11,
          comm: 'bash',
          fd: 0,
          state: 'ESTABLISHED',
          ...socket,
          remoteAddress: '10.0.0.9',
          remotePort: 9001,
        },
        { pid: 12, comm: 'nginx', fd: 6, state: 'LISTEN', ...socket },
        { pid: 13, comm: 'sh', fd: 1, state: 'CONNECTED', ...socket, family: 'AF_UNIX' },
      ],
    });
    assert.deepEqual(
      findings.map((f) => [f.kind, f.severity, f.pid]),
      [
        ['listening-shell', 'critical', 10],
        ['network-shell', 'critical', 11],
      ],
    );
  });
});
