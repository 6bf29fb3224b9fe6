import { VmsightError, hex } from '../../core/index.js';
import type { KernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning, ResolvedMember, SymbolTable } from '../../symbols/index.js';
import type { LinuxPlugin, PluginContext } from '../plugin.js';
import { SOCKFS_MAGIC } from './file-path.js';
import { processFiles, type OpenFilesOptions } from './open-files.js';

export interface SockstatRow {
  readonly pid: number;
  readonly comm: string;
  readonly fd: number;
  /** The socket inode (the number in "socket:[…]" and in /proc/net/tcp's inode column). */
  readonly inode: bigint;
  /** AF_INET, AF_INET6, AF_UNIX, … or AF_<number>. */
  readonly family: string;
  /** STREAM, DGRAM, RAW, SEQPACKET, … (sk_type). */
  readonly type: string;
  /** TCP, UDP, UDPLITE, ICMP, RAW for AF_INET/AF_INET6; UNIX, NETLINK, PACKET otherwise. */
  readonly protocol: string;
  /** Dotted IPv4, RFC 5952 IPv6, or an AF_UNIX path ("@…" when abstract, "" when unbound). */
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The sk_state name (include/net/tcp_states.h, used by UDP and AF_UNIX sockets too). */
  readonly state: string;
  readonly sock: bigint;
}

export type SockstatOptions = OpenFilesOptions;

/** include/linux/socket.h. */
const FAMILIES: Readonly<Record<number, string>> = {
  1: 'AF_UNIX',
  2: 'AF_INET',
  10: 'AF_INET6',
  16: 'AF_NETLINK',
  17: 'AF_PACKET',
  40: 'AF_VSOCK',
};
/** include/linux/net.h enum sock_type. */
const TYPES: Readonly<Record<number, string>> = {
  1: 'STREAM',
  2: 'DGRAM',
  3: 'RAW',
  4: 'RDM',
  5: 'SEQPACKET',
  6: 'DCCP',
  10: 'PACKET',
};
/** include/uapi/linux/in.h IPPROTO_*. */
const IP_PROTOCOLS: Readonly<Record<number, string>> = {
  1: 'ICMP',
  6: 'TCP',
  17: 'UDP',
  58: 'ICMPV6',
  132: 'SCTP',
  136: 'UDPLITE',
  255: 'RAW',
};
/** include/net/tcp_states.h. */
const STATES = [
  '',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
] as const;
/** sizeof(sockaddr_un.sun_path) (include/uapi/linux/un.h). */
const UNIX_PATH_MAX = 108;

interface SockLayout {
  readonly socketSk: number;
  readonly family: number;
  readonly state: number;
  readonly num: number;
  readonly dport: number;
  readonly rcvSaddr: number;
  readonly daddr: number;
  readonly v6Daddr: number | undefined;
  readonly v6RcvSaddr: number | undefined;
  readonly skType: ResolvedMember;
  readonly skProtocol: ResolvedMember;
  readonly span: number;
  /** unix_sock.addr and unix_address.len/name (net/unix), when the table has them. */
  readonly unix: { readonly addr: number; readonly len: number; readonly name: number } | undefined;
}

function sockLayout(symbols: SymbolTable): SockLayout {
  const common = symbols.offsetOf('sock', '__sk_common');
  const at = (member: string): number => common + symbols.offsetOf('sock_common', member);
  const optional = (member: string): number | undefined => {
    const found = symbols.member('sock_common', member);
    return found === undefined ? undefined : common + found.offset;
  };
  const need = (member: string): ResolvedMember => {
    const found = symbols.member('sock', member);
    if (found === undefined) {
      throw new VmsightError('NOT_FOUND', `Type "sock" has no member "${member}"`);
    }
    return found;
  };
  const skType = need('sk_type');
  const skProtocol = need('sk_protocol');
  const addr = symbols.member('unix_sock', 'addr');
  const len = symbols.member('unix_address', 'len');
  const name = symbols.member('unix_address', 'name');
  return {
    socketSk: symbols.offsetOf('socket', 'sk'),
    family: at('skc_family'),
    state: at('skc_state'),
    num: at('skc_num'),
    dport: at('skc_dport'),
    rcvSaddr: at('skc_rcv_saddr'),
    daddr: at('skc_daddr'),
    v6Daddr: optional('skc_v6_daddr'),
    v6RcvSaddr: optional('skc_v6_rcv_saddr'),
    skType,
    skProtocol,
    span: Math.max(skType.offset, skProtocol.offset) + 4,
    unix:
      addr !== undefined && len !== undefined && name !== undefined
        ? { addr: addr.offset, len: len.offset, name: name.offset }
        : undefined,
  };
}

/** A u16 member, or a bitfield in older kernels (sk_type/sk_protocol were bitfields before 5.6). */
function small(view: DataView, member: ResolvedMember): number {
  if (member.type.kind === 'bitfield') {
    const word = view.getUint32(member.offset, true);
    return (word >>> member.type.bit_position) & ((1 << member.type.bit_length) - 1);
  }
  return view.getUint16(member.offset, true);
}

function ipv4(view: DataView, offset: number): string {
  return [0, 1, 2, 3].map((i) => view.getUint8(offset + i)).join('.');
}

/**
 * RFC 5952 text of 16 network-order bytes (the WHATWG URL serializer compresses zeros), with
 * IPv4-mapped addresses in their dotted form "::ffff:a.b.c.d" as inet_ntop() prints them.
 */
function ipv6(view: DataView, offset: number): string {
  if (view.getBigUint64(offset, false) === 0n && view.getUint32(offset + 8, false) === 0xffff) {
    return `::ffff:${ipv4(view, offset + 12)}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 1) groups.push(view.getUint16(offset + 2 * i, false).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function unixPath(
  profile: KernelProfile,
  layout: SockLayout,
  view: DataView,
  warn: (warning: IntrospectionWarning) => void,
): string {
  if (layout.unix === undefined || view.byteLength < layout.unix.addr + 8) return '';
  const address = view.getBigUint64(layout.unix.addr, true);
  if (address === 0n) return '';
  try {
    const head = profile.kernel.read(address + BigInt(layout.unix.len), 4);
    // unix_address.len counts sun_family (2 bytes) and is attacker-controlled: cap at sun_path.
    const length = Math.min(
      Math.max(new DataView(head.buffer, head.byteOffset, 4).getInt32(0, true) - 2, 0),
      UNIX_PATH_MAX,
    );
    const bytes = Buffer.from(profile.kernel.read(address + BigInt(layout.unix.name + 2), length));
    // An abstract name starts with NUL (shown "@…" as in /proc/net/unix); a path ends at its NUL.
    if (bytes[0] === 0) return `@${bytes.subarray(1).toString('latin1')}`;
    const nul = bytes.indexOf(0);
    return bytes.subarray(0, nul < 0 ? bytes.length : nul).toString('latin1');
  } catch (error) {
    warn({
      code: 'unreadable-memory',
      message: `Cannot read unix_address ${hex(address)}: ${(error as Error).message}`,
      address,
    });
    return '';
  }
}

/**
 * `sockstat`: the sockets each process holds, from its socket files (sockfs): file->private_data
 * is the struct socket, socket->sk the struct sock, whose sock_common gives family, state, ports
 * (skc_num in host order, skc_dport in network order) and addresses (include/net/sock.h).
 */
export const sockstatPlugin: LinuxPlugin<SockstatRow, SockstatOptions> = {
  id: 'linux.sockstat',
  version: '1.0.0',
  description: 'Sockets per process with addresses, ports and state',
  requires: {
    symbols: ['init_task'],
    types: ['task_struct', 'files_struct', 'file', 'socket', 'sock', 'sock_common'],
  },
  columns: [
    { name: 'PID', key: 'pid', type: 'int' },
    { name: 'COMM', key: 'comm', type: 'string' },
    { name: 'FD', key: 'fd', type: 'int' },
    { name: 'INODE', key: 'inode', type: 'int' },
    { name: 'FAMILY', key: 'family', type: 'string' },
    { name: 'PROTO', key: 'protocol', type: 'string' },
    { name: 'TYPE', key: 'type', type: 'string' },
    { name: 'LOCAL', key: 'localAddress', type: 'string' },
    { name: 'LPORT', key: 'localPort', type: 'int' },
    { name: 'REMOTE', key: 'remoteAddress', type: 'string' },
    { name: 'RPORT', key: 'remotePort', type: 'int' },
    { name: 'STATE', key: 'state', type: 'string' },
    { name: 'SOCK', key: 'sock', type: 'address', hint: 'hex' },
  ],
  *run(context: PluginContext, options: SockstatOptions): Generator<SockstatRow> {
    const { profile } = context;
    const warn = (w: IntrospectionWarning): void => context.warn(w);
    const layout = sockLayout(profile.symbols);
    const span = Math.max(layout.span, layout.v6RcvSaddr ?? 0, layout.v6Daddr ?? 0) + 16;
    for (const { task, fd, info } of processFiles(profile, warn, options)) {
      if (info.magic !== SOCKFS_MAGIC) continue;
      let view: DataView;
      let sock = 0n;
      try {
        const socket = profile.kernel.read(info.privateData + BigInt(layout.socketSk), 8);
        sock = new DataView(socket.buffer, socket.byteOffset, 8).getBigUint64(0, true);
        const unixSpan = layout.unix === undefined ? 0 : layout.unix.addr + 8;
        let raw: Uint8Array;
        try {
          raw = profile.kernel.read(sock, Math.max(span, unixSpan));
        } catch {
          raw = profile.kernel.read(sock, span); // not a unix_sock: a smaller object
        }
        view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      } catch (error) {
        warn({
          code: 'unreadable-memory',
          message: `Cannot read the socket of process ${task.pid} fd ${fd}: ${(error as Error).message}`,
          address: sock === 0n ? info.privateData : sock,
        });
        continue;
      }
      const familyNumber = view.getUint16(layout.family, true);
      const family = FAMILIES[familyNumber] ?? `AF_${familyNumber}`;
      const typeNumber = small(view, layout.skType);
      const protocolNumber = small(view, layout.skProtocol);
      let protocol = family.replace(/^AF_/, '');
      let localAddress = '';
      let remoteAddress = '';
      let localPort = 0;
      let remotePort = 0;
      if (familyNumber === 2 || familyNumber === 10) {
        protocol =
          typeNumber === 3 ? 'RAW' : (IP_PROTOCOLS[protocolNumber] ?? `IP${protocolNumber}`);
        localPort = view.getUint16(layout.num, true);
        remotePort = view.getUint16(layout.dport, false);
        if (familyNumber === 2 || layout.v6RcvSaddr === undefined || layout.v6Daddr === undefined) {
          localAddress = ipv4(view, layout.rcvSaddr);
          remoteAddress = ipv4(view, layout.daddr);
        } else {
          localAddress = ipv6(view, layout.v6RcvSaddr);
          remoteAddress = ipv6(view, layout.v6Daddr);
        }
      } else if (familyNumber === 1) {
        localAddress = unixPath(profile, layout, view, warn);
      }
      yield {
        pid: task.pid,
        comm: task.comm,
        fd,
        inode: info.ino,
        family,
        type: TYPES[typeNumber] ?? String(typeNumber),
        protocol,
        localAddress,
        localPort,
        remoteAddress,
        remotePort,
        state: STATES[view.getUint8(layout.state)] ?? String(view.getUint8(layout.state)),
        sock,
      };
    }
  },
};
