#!/usr/bin/env node
// The vmsight command. It runs the TypeScript sources through tsx's loader, so the command always
// matches the code in src/ (no stale build to forget); see docs/decisions.md.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
