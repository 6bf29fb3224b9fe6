#!/usr/bin/env node
// The vmsight command: src/cli/main.ts, from a bundle that is rebuilt whenever src/ changes (so the
// command always runs the code in src/; see bin/cli-bundle.mjs and docs/decisions.md).
import { loadMain } from './cli-bundle.mjs';

const main = await loadMain();
process.exitCode = await main(process.argv);
