import type { JsonObject } from './canonical-json.js';

/**
 * What `vmsight analyze` flags in a memory image. The rules read plugin rows through the narrow
 * shapes below (the fields the plugins in src/plugins/linux produce), so they stay testable
 * without a guest and the evidence layer needs no plugin import.
 */
export const FindingKind = {
  /** In one kernel view of the tasks and missing from another (psxview). */
  HIDDEN_PROCESS: 'hidden-process',
  /** A parent that should not start this child (a web server starting a shell, …). */
  UNUSUAL_PARENT: 'unusual-parent',
  /** Executable code mapped from a file that no longer exists, or from memory only (memfd). */
  DELETED_EXECUTABLE: 'deleted-executable',
  /** A shell that owns a listening socket (a bind shell). */
  LISTENING_SHELL: 'listening-shell',
  /** A shell whose standard input or output is a network socket (a reverse shell). */
  NETWORK_SHELL: 'network-shell',
} as const;
export type FindingKind = (typeof FindingKind)[keyof typeof FindingKind];

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  readonly kind: FindingKind;
  readonly severity: Severity;
  readonly pid: number;
  readonly comm: string;
  /** One sentence a reader can check against the cited rows. */
  readonly reason: string;
  /** The rows' facts that support it (pids, paths, addresses, views). */
  readonly evidence: JsonObject;
}

export interface ProcessFacts {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly kernelThread: boolean;
}

export interface TaskViewFacts {
  readonly pid: number;
  readonly comm: string;
  readonly taskList: boolean;
  readonly pidHash: boolean;
  readonly children: boolean;
  readonly runQueue: boolean;
  readonly state: string;
  readonly suspicious: boolean;
}

export interface MappingFacts {
  readonly pid: number;
  readonly comm: string;
  readonly flags: string;
  readonly path?: string | null | undefined;
}

export interface SocketFacts {
  readonly pid: number;
  readonly comm: string;
  readonly fd: number;
  readonly family: string;
  readonly protocol: string;
  readonly state: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

export interface FindingInput {
  readonly processes: readonly ProcessFacts[];
  readonly taskViews?: readonly TaskViewFacts[] | undefined;
  readonly mappings?: readonly MappingFacts[] | undefined;
  readonly sockets?: readonly SocketFacts[] | undefined;
}

/** task_struct.comm of common shells (TASK_COMM_LEN 16: at most 15 characters). */
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'csh', 'tcsh', 'fish']);

/**
 * Network-facing daemons that serve requests and have no business starting an interactive shell:
 * a shell under one of them is the classic sign of remote code execution (MITRE ATT&CK T1505.003,
 * web shell). sshd, login and getty are absent on purpose: starting shells is their job.
 */
const NETWORK_DAEMONS = new Set([
  'nginx',
  'apache2',
  'httpd',
  'lighttpd',
  'php-fpm',
  'php-cgi',
  'mysqld',
  'mariadbd',
  'postgres',
  'redis-server',
  'memcached',
  'named',
  'dnsmasq',
  'vsftpd',
  'proftpd',
  'exim4',
  'sendmail',
  'smbd',
  'cupsd',
  'tomcat',
  'java',
  'node',
  'busybox-httpd',
]);

const isShell = (comm: string): boolean => SHELLS.has(comm);

/** php-fpm workers rename themselves "php-fpm7.4" and the like. */
const isNetworkDaemon = (comm: string): boolean =>
  NETWORK_DAEMONS.has(comm) || /^php-fpm/.test(comm) || /^postgres/.test(comm);

function hiddenProcesses(views: readonly TaskViewFacts[]): Finding[] {
  const findings: Finding[] = [];
  for (const view of views) {
    if (!view.suspicious) continue;
    const seen = { tasks: view.taskList, pidIdr: view.pidHash, children: view.children };
    const missing = Object.entries(seen)
      .filter(([, present]) => !present)
      .map(([name]) => name);
    if (view.state === 'R' && !view.runQueue) missing.push('runQueue');
    findings.push({
      kind: FindingKind.HIDDEN_PROCESS,
      // Unlinked from the task list while the kernel still knows it: what DKOM rootkits do.
      severity: view.taskList ? 'medium' : 'critical',
      pid: view.pid,
      comm: view.comm,
      reason: `pid ${view.pid} (${view.comm}) is missing from the ${missing.join(', ')} view${missing.length === 1 ? '' : 's'} of the kernel's tasks`,
      evidence: { ...seen, runQueue: view.runQueue, state: view.state, missing },
    });
  }
  return findings;
}

function unusualParents(processes: readonly ProcessFacts[]): Finding[] {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const findings: Finding[] = [];
  for (const child of processes) {
    const parent = byPid.get(child.ppid);
    if (parent === undefined || child.kernelThread) continue;
    const evidence = {
      pid: child.pid,
      comm: child.comm,
      ppid: parent.pid,
      parentComm: parent.comm,
    };
    if (isShell(child.comm) && isNetworkDaemon(parent.comm)) {
      findings.push({
        kind: FindingKind.UNUSUAL_PARENT,
        severity: 'high',
        pid: child.pid,
        comm: child.comm,
        reason: `shell "${child.comm}" (pid ${child.pid}) was started by network daemon "${parent.comm}" (pid ${parent.pid})`,
        evidence,
      });
    } else if (parent.kernelThread && parent.pid !== 0) {
      // pid 1 is the only user process whose parent is a kernel task (the idle task, pid 0);
      // usermode helpers (modprobe, hotplug) under kworkers are legitimate but short-lived.
      findings.push({
        kind: FindingKind.UNUSUAL_PARENT,
        severity: 'medium',
        pid: child.pid,
        comm: child.comm,
        reason: `user process "${child.comm}" (pid ${child.pid}) has kernel thread "${parent.comm}" (pid ${parent.pid}) as its parent`,
        evidence,
      });
    }
  }
  return findings;
}

function deletedExecutables(mappings: readonly MappingFacts[]): Finding[] {
  const findings = new Map<string, Finding>();
  for (const mapping of mappings) {
    const path = mapping.path ?? '';
    if (!mapping.flags.includes('x')) continue;
    const deleted = path.endsWith(' (deleted)');
    const memfd = path.startsWith('/memfd:');
    if (!deleted && !memfd) continue;
    const key = `${mapping.pid}\0${path}`;
    if (findings.has(key)) continue;
    findings.set(key, {
      kind: FindingKind.DELETED_EXECUTABLE,
      severity: 'high',
      pid: mapping.pid,
      comm: mapping.comm,
      reason: memfd
        ? `pid ${mapping.pid} (${mapping.comm}) executes code from memory-only file "${path}"`
        : `pid ${mapping.pid} (${mapping.comm}) executes code from deleted file "${path}"`,
      evidence: { pid: mapping.pid, path, flags: mapping.flags },
    });
  }
  return [...findings.values()];
}

const NETWORK_FAMILIES = new Set(['AF_INET', 'AF_INET6']);

function shellSockets(sockets: readonly SocketFacts[]): Finding[] {
  const findings: Finding[] = [];
  for (const socket of sockets) {
    if (!isShell(socket.comm) || !NETWORK_FAMILIES.has(socket.family)) continue;
    const evidence = {
      pid: socket.pid,
      fd: socket.fd,
      protocol: socket.protocol,
      state: socket.state,
      local: `${socket.localAddress}:${socket.localPort}`,
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
    };
    if (socket.state === 'LISTEN') {
      findings.push({
        kind: FindingKind.LISTENING_SHELL,
        severity: 'critical',
        pid: socket.pid,
        comm: socket.comm,
        reason: `shell "${socket.comm}" (pid ${socket.pid}) listens on ${socket.protocol} ${evidence.local}`,
        evidence,
      });
    } else if (socket.fd <= 2) {
      findings.push({
        kind: FindingKind.NETWORK_SHELL,
        severity: 'critical',
        pid: socket.pid,
        comm: socket.comm,
        reason: `shell "${socket.comm}" (pid ${socket.pid}) has ${socket.protocol} socket ${evidence.local} → ${evidence.remote} as fd ${socket.fd}`,
        evidence,
      });
    }
  }
  return findings;
}

/** Every finding, most severe first, then by pid. */
export function findFindings(input: FindingInput): Finding[] {
  const findings = [
    ...hiddenProcesses(input.taskViews ?? []),
    ...unusualParents(input.processes),
    ...deletedExecutables(input.mappings ?? []),
    ...shellSockets(input.sockets ?? []),
  ];
  const rank = (severity: Severity): number => SEVERITIES.indexOf(severity);
  return findings.sort((a, b) => rank(b.severity) - rank(a.severity) || a.pid - b.pid);
}
