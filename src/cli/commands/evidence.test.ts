import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLabVm, type LabVm } from '../../lab/index.js';
import { runVmsight, type CliResult } from '../internal-test/run-cli.js';

const vmsight = (...args: string[]): CliResult => runVmsight(args);

function ok(result: CliResult): CliResult {
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  return result;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

void describe('vmsight keys + evidence on the lab guest', { timeout: 600_000 }, () => {
  let vm: LabVm | undefined;
  let dir = '';
  let provider = '';
  let analyst = '';
  let itemId = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmsight-evidence-cli-'));
    provider = join(dir, 'provider');
    analyst = join(dir, 'analyst');
    vm = await startLabVm({});
  });
  after(async () => {
    await vm?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('creates keys with private files and prints the public identity', () => {
    ok(vmsight('keys', 'init', '--home', provider, '--name', 'cloud provider'));
    ok(vmsight('keys', 'init', '--home', analyst, '--name', 'analyst'));
    const again = vmsight('keys', 'init', '--home', analyst, '--name', 'analyst');
    assert.equal(again.status, 2);
    assert.match(again.stderr, /Keys already exist/);
    const shown = ok(vmsight('keys', 'show', '--public', '--home', analyst));
    assert.match(
      shown.stdout,
      /^vmsight-public-identity v1\nname: analyst\nsigning-key: ed25519:\S{43}\nencryption-key: x25519:\S{43}\n/,
    );
    writeFileSync(join(dir, 'analyst.pub'), shown.stdout);
  });

  void it('acquires the memory of a paused VM: its image hash is the hash of a plain dump', async () => {
    const qmp = await vm!.qmp();
    await qmp.execute('stop');
    const plain = join(dir, 'plain.elf');
    await qmp.execute(
      'dump-guest-memory',
      { paging: false, protocol: `file:${plain}` },
      { timeoutMs: 120_000 },
    );
    // One QMP client at a time: free the socket for the CLI.
    await qmp.close();
    try {
      const result = ok(
        vmsight(
          'evidence',
          'acquire',
          '--vm',
          vm!.name,
          '--case',
          'case-1',
          '--reason',
          'tenant report 17',
          '--home',
          provider,
          '--json',
        ),
      );
      const item = JSON.parse(result.stdout) as {
        id: string;
        status: string;
        imageSha256: string;
        imageSize: number;
      };
      assert.equal(item.status, 'complete');
      assert.equal(item.imageSha256, await sha256File(plain));
      assert.ok(item.imageSize > 256 * 1024 * 1024);
      itemId = item.id;
    } finally {
      await (await vm!.qmp()).execute('cont');
      await (await vm!.qmp()).close();
    }
  });

  void it('lists, shows and verifies the item', () => {
    const list = ok(vmsight('evidence', 'list', '--home', provider));
    assert.match(
      list.stdout,
      new RegExp(`^${itemId}\\s+case-1\\s+${vm!.name}\\s+complete\\s+acquired`, 'm'),
    );
    const show = ok(vmsight('evidence', 'show', itemId, '--home', provider, '--json'));
    const details = JSON.parse(show.stdout) as {
      config: Record<string, unknown>;
      events: { action: string; reason: string; host: string; actor: { name: string } }[];
    };
    assert.ok(details.config['query-version']);
    assert.match(JSON.stringify(details.config['registers']), /CR3=/);
    assert.deepEqual(
      details.events.map((event) => [event.action, event.actor.name, event.reason]),
      [
        ['acquired', 'cloud provider', 'tenant report 17'],
        ['stored', 'cloud provider', 'tenant report 17'],
      ],
    );
    const verify = ok(vmsight('evidence', 'verify', itemId, '--home', provider));
    assert.match(
      verify.stdout,
      new RegExp(`^OK ${itemId}: 2 custody events, 3 blobs; signed by cloud provider`),
    );
  });

  void it('exports to the analyst, who imports and verifies under a separate key store', () => {
    const bundle = join(dir, 'evidence.vmsb');
    ok(
      vmsight(
        'evidence',
        'export',
        itemId,
        '--to',
        join(dir, 'analyst.pub'),
        '-o',
        bundle,
        '--pseudonymise',
        '--home',
        provider,
      ),
    );
    const imported = ok(vmsight('evidence', 'import', bundle, '--home', analyst, '--json'));
    const result = JSON.parse(imported.stdout) as {
      itemId: string;
      subject: string;
      withheld: string[];
    };
    assert.equal(result.itemId, itemId);
    assert.match(result.subject, /^subject-[0-9a-f]{16}$/);
    assert.deepEqual(result.withheld, ['vm-identity']);
    // Nothing the analyst holds names the tenant's VM or the provider's case.
    const held = ok(vmsight('evidence', 'show', itemId, '--home', analyst, '--json')).stdout;
    assert.equal(held.includes(vm!.name), false, 'the VM name reached the analyst');
    // As a whole JSON string: its pseudonym is `case-<16 hex digits>`, which starts "case-1" one
    // time in 16.
    assert.equal(held.includes('"case-1"'), false, 'the case id reached the analyst');
    assert.match(held, /"case-[0-9a-f]{16}"/);
    const verify = ok(vmsight('evidence', 'verify', itemId, '--home', analyst, '--json'));
    const report = JSON.parse(verify.stdout) as { ok: boolean; signers: { name: string }[] };
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.signers.map((signer) => signer.name),
      ['cloud provider', 'analyst'],
    );
    // The provider cannot open what it sealed for the analyst.
    const refused = vmsight('evidence', 'import', bundle, '--home', provider);
    assert.equal(refused.status, 3);
    assert.match(refused.stderr, /is encrypted to key [0-9a-f]{32}, not to this key store's key/);
  });

  void it('fails verification with exit status 1 naming the item when a blob is damaged', () => {
    const show = ok(vmsight('evidence', 'show', itemId, '--home', analyst, '--json'));
    const blob = (
      JSON.parse(show.stdout) as { blobs: { role: string; sha256: string }[] }
    ).blobs.find((candidate) => candidate.role === 'vm-config')!;
    const path = join(analyst, 'evidence', 'blobs', 'sha256', blob.sha256.slice(0, 2), blob.sha256);
    rmSync(path);
    const verify = vmsight('evidence', 'verify', itemId, '--home', analyst);
    assert.equal(verify.status, 1);
    assert.match(
      verify.stdout,
      new RegExp(
        `^FAILED ${itemId}: blob vm-config \\(sha256 [0-9a-f]{16}…\\): its file is missing`,
      ),
    );
  });
});
