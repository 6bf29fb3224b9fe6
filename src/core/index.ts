/**
 * Public surface of `core`: what every other folder may import. Nothing here depends on another
 * vmsight folder.
 */
export { ByteReader } from './byte-reader.js';
export {
  ErrorCode,
  EXIT_CODE_BY_ERROR,
  VmsightError,
  exitCodeFor,
  isVmsightError,
  type VmsightErrorOptions,
} from './errors.js';
export { freeTcpPort } from './free-tcp-port.js';
export { hex, parseUnsigned } from './hex.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export {
  DEFAULT_MAX_LINE_BYTES,
  splitLineBatches,
  splitLines,
  type LineSplitterOptions,
  type TextLine,
} from './line-splitter.js';
export type { ProgressListener, ProgressReport } from './progress.js';
