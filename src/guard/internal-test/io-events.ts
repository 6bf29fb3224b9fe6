import type { GuestEvent } from '../../events/index.js';

/** Test helpers: port and MMIO events in a line each. */
export function outb(port: number, value: number, vm = 'vm1', size: 1 | 2 | 4 = 1): GuestEvent {
  return { type: 'port-io', vm, vcpu: 0, time: null, port, direction: 'write', size, value };
}
export function inb(port: number, vm = 'vm1', value = 0): GuestEvent {
  return { type: 'port-io', vm, vcpu: 0, time: null, port, direction: 'read', size: 1, value };
}
export function mmioWrite(
  address: number,
  value: number,
  vm = 'vm1',
  size: 1 | 2 | 4 | 8 = 4,
): GuestEvent {
  return {
    type: 'mmio',
    vm,
    vcpu: 0,
    time: null,
    address: BigInt(address),
    direction: 'write',
    size,
    value: BigInt(value),
  };
}
