/**
 * Test support: a lab workload whose processes hold known files, a pipe, listening and connected
 * TCP sockets (IPv4 and IPv6) and a unix socket, and print the guest's own /proc/PID/maps,
 * readlink of /proc/PID/fd/*, and /proc/net/{tcp,tcp6,udp,udp6,unix}; with parsers of those lines.
 */

import type { MapsRow } from './maps.js';

/**
 * Busybox sh. Ends with `PS-END` so the paused-guest fixture waits for it; the deleted file shows
 * " (deleted)" in the fd links. Both nc read a pipe that stays open (a background job's stdin is
 * /dev/null, whose EOF would end the connection); busybox nc -l listens on :: (dual stack), so the
 * server side of the connection is an AF_INET6 socket with v4-mapped addresses.
 */
export const FILES_WORKLOAD = `mkdir -p /tmp/vmsight
echo data > /tmp/vmsight/data.txt
echo gone > /tmp/vmsight/gone.txt
sh -c 'exec 3</tmp/vmsight/data.txt 4>>/tmp/vmsight/log.txt 5</tmp/vmsight/gone.txt; exec sleep 4000' &
sleep 4001 | sleep 4002 &
sleep 5000 | nc -l -p 8080 &
httpd -f -p 127.0.0.1:8081 &
httpd -f -p [::1]:8082 &
syslogd -n -O /tmp/vmsight/syslog &
sleep 1
sleep 4003 | nc 127.0.0.1 8080 &
sleep 1
rm /tmp/vmsight/gone.txt
echo FILES-BEGIN
for pid in $(pidof sleep nc httpd syslogd); do
  while read -r line; do echo "MAPS|$pid|$line"; done < /proc/$pid/maps
  for f in /proc/$pid/fd/*; do echo "FD|$pid|\${f##*/}|$(readlink $f)"; done
done
for t in tcp tcp6 udp udp6 unix; do
  while read -r line; do echo "NET|$t|$line"; done < /proc/net/$t
done
echo FILES-END
echo PS-END
wait
`;

/** A /proc/PID/maps line, in the fields of a maps row ("" for an unnamed region). */
export type GuestMapping = Omit<MapsRow, 'pid' | 'comm' | 'vma' | 'path'> & {
  readonly path: string;
};

export interface GuestSocket {
  readonly protocol: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly state: number;
}

export interface GuestFiles {
  readonly maps: Map<number, GuestMapping[]>;
  /** pid → fd → readlink text. */
  readonly fds: Map<number, Map<number, string>>;
  /** inode → socket, from /proc/net/{tcp,tcp6,udp,udp6}. */
  readonly sockets: Map<bigint, GuestSocket>;
  /** inode → { type, path }, from /proc/net/unix. */
  readonly unix: Map<bigint, { readonly type: number; readonly path: string }>;
}

/** A /proc/net address: %08X words of the raw (network-order) bytes read as host u32s. */
function netAddress(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 8) {
    const word = Number.parseInt(text.slice(i, i + 8), 16);
    bytes.push(word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24);
  }
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 12).join(',') === '0,0,0,0,0,0,0,0,0,0,255,255') {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** Parses the MAPS|, FD| and NET| lines of the serial log (fs/proc/task_mmu.c, net/ipv4/tcp_ipv4.c). */
export function parseGuestFiles(serial: string): GuestFiles {
  const result: GuestFiles = {
    maps: new Map(),
    fds: new Map(),
    sockets: new Map(),
    unix: new Map(),
  };
  for (const line of serial.split(/\r?\n/)) {
    let m =
      /^MAPS\|(\d+)\|([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) ([0-9a-f]+):([0-9a-f]+) (\d+) *(.*)$/.exec(
        line,
      );
    if (m !== null) {
      const pid = Number(m[1]);
      const list = result.maps.get(pid) ?? [];
      list.push({
        start: BigInt(`0x${m[2]}`),
        end: BigInt(`0x${m[3]}`),
        flags: m[4] ?? '',
        pgoff: BigInt(`0x${m[5]}`),
        major: Number.parseInt(m[6] ?? '', 16),
        minor: Number.parseInt(m[7] ?? '', 16),
        inode: BigInt(m[8] ?? '0'),
        path: m[9] ?? '',
      });
      result.maps.set(pid, list);
      continue;
    }
    m = /^FD\|(\d+)\|(\d+)\|(.*)$/.exec(line);
    if (m !== null) {
      const pid = Number(m[1]);
      const fds = result.fds.get(pid) ?? new Map<number, string>();
      fds.set(Number(m[2]), m[3] ?? '');
      result.fds.set(pid, fds);
      continue;
    }
    m = /^NET\|(tcp|udp)6?\|(\d+: .*)$/.exec(line);
    if (m !== null) {
      // "sl local rem st tx:rx tr:tm retrnsmt uid timeout inode …" (net/ipv4/tcp_ipv4.c).
      const [, local = '', remote = '', state = '', , , , , , inode = '0'] = (m[2] ?? '').split(
        /\s+/,
      );
      const [localAddress = '', localPort = ''] = local.split(':');
      const [remoteAddress = '', remotePort = ''] = remote.split(':');
      result.sockets.set(BigInt(inode), {
        protocol: (m[1] ?? '').toUpperCase(),
        localAddress: netAddress(localAddress),
        localPort: Number.parseInt(localPort, 16),
        remoteAddress: netAddress(remoteAddress),
        remotePort: Number.parseInt(remotePort, 16),
        state: Number.parseInt(state, 16),
      });
      continue;
    }
    // "Num RefCount Protocol Flags Type St Inode Path" (net/unix/af_unix.c unix_seq_show()).
    m = /^NET\|unix\|[0-9a-f]+: \S+ \S+ \S+ ([0-9A-F]{4}) [0-9A-F]{2} +(\d+) ?(.*)$/.exec(line);
    if (m !== null) {
      result.unix.set(BigInt(m[2] ?? '0'), {
        type: Number.parseInt(m[1] ?? '', 16),
        path: m[3] ?? '',
      });
    }
  }
  return result;
}
