// Starts the TypeScript guard worker from a source checkout: a worker does not inherit the tsx
// loader that bin/vmsight.js registers, so it registers its own before importing the entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
