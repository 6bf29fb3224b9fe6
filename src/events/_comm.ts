import { basename } from 'node:path';

/** The kernel's `TASK_COMM_LEN` is 16 bytes including the NUL (include/linux/sched.h). */
const COMM_LENGTH = 15;

/**
 * The `comm` the kernel gives a task that runs `path`: the base name cut to 15 bytes
 * (fs/exec.c `__set_task_comm(me, kbasename(bprm->filename))`), for imports that know only the
 * executable's path.
 */
export function commOf(path: string): string {
  return basename(path).slice(0, COMM_LENGTH);
}
