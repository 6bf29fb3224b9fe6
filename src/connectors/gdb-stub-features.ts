/** What a gdbstub said it supports in its `qSupported` reply (GDB remote protocol, "qSupported"). */
export interface StubFeatures {
  /** Largest packet the stub accepts, in bytes (`PacketSize`, hex in qSupported). */
  readonly packetSize: number;
  readonly multiprocess: boolean;
  readonly xmlRegisters: boolean;
  readonly raw: string;
}

/** What we offer: multiprocess thread ids, swbreak/hwbreak stop reasons, i386 XML registers. */
export const QSUPPORTED_REQUEST = 'qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386';

/** Assumed before the handshake, and when a stub names no usable `PacketSize`. */
export const DEFAULT_STUB_FEATURES: StubFeatures = {
  packetSize: 4096,
  multiprocess: false,
  xmlRegisters: false,
  raw: '',
};

/** Largest packet size believed, whatever a stub claims: packets are buffered whole. */
const MAX_PACKET_SIZE = 1 << 20;

/**
 * Parses a `qSupported` reply: `;`-separated `name=value`, `name+` or `name-` items. A missing,
 * malformed or absurd `PacketSize` falls back to the default rather than failing the connection.
 */
export function parseStubFeatures(reply: string): StubFeatures {
  const features = new Map<string, string>();
  for (const item of reply.split(';')) {
    const equals = item.indexOf('=');
    if (equals > 0) features.set(item.slice(0, equals), item.slice(equals + 1));
    else features.set(item.replace(/[+-]$/, ''), item.endsWith('+') ? '+' : '-');
  }
  const size = Number.parseInt(features.get('PacketSize') ?? '', 16);
  return {
    packetSize:
      Number.isFinite(size) && size >= 64
        ? Math.min(size, MAX_PACKET_SIZE)
        : DEFAULT_STUB_FEATURES.packetSize,
    multiprocess: features.get('multiprocess') === '+',
    xmlRegisters: features.get('qXfer:features:read') === '+',
    raw: reply,
  };
}
