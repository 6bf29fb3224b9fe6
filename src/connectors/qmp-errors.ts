import { VmsightError } from '../core/index.js';

/** What a failed connect(2) on a QMP unix socket means for the user, by errno. */
const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'the socket does not exist (is QEMU running with -qmp?)',
  ECONNREFUSED: 'connection refused (no QEMU is listening on it)',
  EACCES: 'permission denied',
  ENOTSOCK: 'the path is not a socket',
};

/** `CONNECTOR_ERROR` for a QMP socket that cannot be connected to, naming its path. */
export function qmpSocketError(path: string, error: NodeJS.ErrnoException): VmsightError {
  const reason =
    (error.code !== undefined ? SOCKET_ERRORS[error.code] : undefined) ?? error.message;
  return new VmsightError('CONNECTOR_ERROR', `Cannot connect to QMP socket "${path}": ${reason}`, {
    cause: error,
    details: { socket: path, errno: error.code },
  });
}

/** `CONNECTOR_ERROR` for a QMP connection that failed or was closed, naming its path. */
export function qmpConnectionError(path: string, reason: string, cause?: unknown): VmsightError {
  return new VmsightError('CONNECTOR_ERROR', `QMP connection to "${path}" failed: ${reason}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { socket: path },
  });
}
