/**
 * Worker entry: thin by design (STYLE.md habit 14). It builds a {@link GuardCore} from the Init
 * message and answers every ScanRequest with a ScanResult, or a WorkerError.
 */
import { parentPort } from 'node:worker_threads';
import { GuardCore } from './guard-core.js';
import { RamFileProbe } from './ram-file-probe.js';
import { transferListOf, type FromWorker, type ToWorker } from './protocol.js';

let core: GuardCore | undefined;
const port = parentPort;
if (port === null) throw new Error('The guard worker must run in a worker thread');

port.on('message', (message: ToWorker) => {
  try {
    if (message.type === 'init') {
      const ram =
        message.memoryFiles === undefined ? undefined : new RamFileProbe(message.memoryFiles);
      core = new GuardCore(message, ram?.probe);
      return;
    }
    if (core === undefined) throw new Error('Scan request before init');
    const result = core.scan(message);
    port.postMessage(result, transferListOf(result));
  } catch (error) {
    const reply: FromWorker = {
      type: 'error',
      batch: message.type === 'scan' ? message.batch : null,
      code: 'INTERNAL',
      message: error instanceof Error ? error.message : String(error),
    };
    port.postMessage(reply);
  }
});
