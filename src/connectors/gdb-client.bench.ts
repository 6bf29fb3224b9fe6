// Syscall capture rate through the GDB client on the lab guest: a breakpoint at entry_SYSCALL_64,
// then continue + read registers per hit (lab-notes §4 measured ~230 hits/s with a Python client).
// Prints figures; never asserts on time. Run: npm run bench -- gdb-client
import { startLabVm } from '../lab/index.js';
import { GdbClient } from './gdb-client.js';

const ENTRY_SYSCALL_64 = 0xffffffff81c00080n; // nokaslr 6.1.0-56-amd64
const SECONDS = 5;

const vm = await startLabVm({
  gdb: true,
  workload: 'echo WORKLOAD-UP\nwhile :; do echo x > /dev/null; done\n',
});
try {
  await vm.waitForSerial(/WORKLOAD-UP/, 120_000);
  for (const type of ['hardware', 'software'] as const) {
    const gdb = await GdbClient.connect({ port: vm.gdbPort ?? 0 });
    await gdb.insertBreakpoint(type, ENTRY_SYSCALL_64);
    let hits = 0;
    let registerNs = 0n;
    const processes = new Set<bigint>();
    const deadline = Date.now() + SECONDS * 1000;
    const started = process.hrtime.bigint();
    while (Date.now() < deadline) {
      await gdb.continue({ timeoutMs: 30_000 });
      const before = process.hrtime.bigint();
      const regs = await gdb.readRegisters();
      registerNs += process.hrtime.bigint() - before;
      processes.add(regs.cr3);
      hits += 1;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await gdb.detach();
    console.log(
      `${type} breakpoint: ${(hits / seconds).toFixed(0)} syscalls/s (${hits} in ${seconds.toFixed(2)} s, ` +
        `g ${(Number(registerNs) / hits / 1e6).toFixed(3)} ms each, ${processes.size} CR3 values)`,
    );
  }
} finally {
  await vm.stop();
}
