/**
 * Test and benchmark fixtures: C sources of the static guest programs that sensor tests run (built
 * with `compileStatic`, injected with fw_cfg). Calls go through syscall(2), so libc caching cannot
 * hide any.
 */

/** Calls of each kind the completeness probe makes. */
export const PROBE_CALLS = { getpid: 1000, getppid: 500, getuid: 700, write: 300 } as const;

/** Calls of each kind a probe program makes. */
export interface ProbeCalls {
  readonly getpid: number;
  readonly getppid: number;
  readonly getuid: number;
  readonly write: number;
}

/**
 * Makes `calls` of each kind (writes go to /dev/null) and prints `SYSPROBE pid=P fd=F`, its pid
 * and the fd of its writes, for the host to match.
 */
export function syscallProbeSource(calls: ProbeCalls): string {
  return `
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  int fd = open("/dev/null", O_WRONLY);
  long pid = 0;
  for (int i = 0; i < ${calls.getpid}; i++) pid = syscall(SYS_getpid);
  for (int i = 0; i < ${calls.getppid}; i++) syscall(SYS_getppid);
  for (int i = 0; i < ${calls.getuid}; i++) syscall(SYS_getuid);
  for (int i = 0; i < ${calls.write}; i++) write(fd, "x", 1);
  printf("SYSPROBE pid=%ld fd=%d\\n", pid, fd);
  return 0;
}
`;
}

/** The completeness probe: `PROBE_CALLS` of each kind. */
export const SYSCALL_PROBE_SOURCE = syscallProbeSource(PROBE_CALLS);

/** getppid forever, in rounds of `roundCalls`, printing `ROUND k` (unbuffered) after each. */
export function getppidLoopSource(roundCalls: number): string {
  return `
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (long round = 1;; round++) {
    for (int i = 0; i < ${roundCalls}; i++) syscall(SYS_getppid);
    printf("ROUND %ld\\n", round);
  }
}
`;
}
