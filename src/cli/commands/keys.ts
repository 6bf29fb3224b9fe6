import { userInfo, hostname } from 'node:os';
import type { Command } from 'commander';
import { initKeys, showKeys, type KeysSummary } from '../../app/index.js';
import { printJson } from '../output.js';

interface KeysFlags {
  home?: string;
  json?: boolean;
}

function defaultName(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return hostname();
  }
}

function render(summary: KeysSummary, json: boolean): void {
  if (json) {
    printJson({
      dir: summary.dir,
      name: summary.identity.name,
      signingKey: summary.identity.signingKey,
      encryptionKey: summary.identity.encryptionKey,
      signingFingerprint: summary.signingFingerprint,
      encryptionFingerprint: summary.encryptionFingerprint,
    });
    return;
  }
  process.stdout.write(`keys in ${summary.dir} (private files mode 0600)\n${summary.publicText}`);
}

/** `vmsight keys init|show`: this party's Ed25519 signing and X25519 encryption keys. */
export function registerKeysCommand(program: Command): void {
  const keys = program
    .command('keys')
    .description('signing (Ed25519) and bundle-encryption (X25519) keys of this party');
  keys
    .command('init')
    .description("generate this party's keys (files of mode 0600 under HOME/keys)")
    .option('--name <name>', 'who signs custody events (default: user@host)')
    .option('--force', 'replace existing keys')
    .option('--home <dir>', 'key and evidence store (default: $VMSIGHT_HOME or .vmsight)')
    .option('--json', 'print the public keys as JSON')
    .action(async (flags: KeysFlags & { name?: string; force?: boolean }) => {
      const summary = await initKeys({
        name: flags.name ?? defaultName(),
        force: flags.force === true,
        ...(flags.home === undefined ? {} : { home: flags.home }),
      });
      render(summary, flags.json === true);
    });
  keys
    .command('show')
    .description(
      'print the public keys (give the output of --public to the party that exports to you)',
    )
    .option('--public', 'print only the public identity text, for a file')
    .option('--home <dir>', 'key and evidence store (default: $VMSIGHT_HOME or .vmsight)')
    .option('--json', 'print as JSON')
    .action(async (flags: KeysFlags & { public?: boolean }) => {
      const summary = await showKeys(flags.home === undefined ? {} : { home: flags.home });
      if (flags.public === true && flags.json !== true) {
        process.stdout.write(summary.publicText);
        return;
      }
      render(summary, flags.json === true);
    });
}
