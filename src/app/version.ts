import { readFileSync } from 'node:fs';

/** vmsight's version, from package.json, as recorded in models, traces and evidence. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
