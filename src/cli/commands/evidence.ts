import type { Command } from 'commander';
import { VmsightError } from '../../core/index.js';
import {
  acquireEvidence,
  collectEvidenceGarbage,
  exportEvidence,
  importEvidence,
  listEvidence,
  showEvidence,
  verifyEvidence,
  type EvidenceItem,
} from '../../app/index.js';
import { printJson, printTable } from '../output.js';
import { ProgressBar } from '../progress.js';

interface CommonFlags {
  home?: string;
  json?: boolean;
}

const homeOf = (flags: CommonFlags): { home?: string } =>
  flags.home === undefined ? {} : { home: flags.home };

function withProgress<T>(flags: CommonFlags, run: (bar: ProgressBar) => Promise<T>): Promise<T> {
  const bar = new ProgressBar({ enabled: flags.json !== true });
  return run(bar).finally(() => bar.finish());
}

const HOME_HELP = 'key and evidence store (default: $VMSIGHT_HOME or .vmsight)';

/** `vmsight evidence acquire|list|show|verify|export|import`. */
export function registerEvidenceCommand(program: Command): void {
  const evidence = program
    .command('evidence')
    .description('acquire, verify and hand over forensic evidence with a signed custody log');

  evidence
    .command('acquire')
    .description("capture a VM's memory (QMP dump-guest-memory) with its configuration")
    .requiredOption('--vm <name>', 'a registered or lab VM')
    .option('--case <id>', 'case the evidence belongs to', 'unassigned')
    .option('--reason <text>', 'why it is acquired (recorded, signed, in custody)')
    .option('--pause', 'keep the VM paused from the register snapshot until the dump is complete')
    .option(
      '--from <source>',
      'qmp: dump-guest-memory into a FIFO; shm: read the shared memory backend (VM paused throughout)',
      'qmp',
    )
    .option('--home <dir>', HOME_HELP)
    .option('--json', 'print the item as JSON')
    .action(
      async (
        flags: CommonFlags & {
          vm: string;
          case: string;
          reason?: string;
          pause?: boolean;
          from: string;
        },
      ) => {
        if (flags.from !== 'qmp' && flags.from !== 'shm') {
          throw new VmsightError(
            'INVALID_ARGUMENT',
            `--from must be qmp or shm, not "${flags.from}"`,
          );
        }
        const from = flags.from;
        const item = await withProgress(flags, (bar) =>
          acquireEvidence({
            ...homeOf(flags),
            vm: flags.vm,
            caseId: flags.case,
            pause: flags.pause === true,
            from,
            ...(flags.reason === undefined ? {} : { reason: flags.reason }),
            onProgress: (report) => bar.update(report),
          }),
        );
        if (flags.json === true) printJson(item);
        else
          process.stdout.write(
            `${item.id}  ${item.imageSize ?? 0} bytes  sha256 ${item.imageSha256 ?? ''}\n`,
          );
      },
    );

  evidence
    .command('list')
    .description('evidence items, oldest first')
    .option('--case <id>', 'only this case')
    .option('--home <dir>', HOME_HELP)
    .option('--json', 'print as JSON')
    .action(async (flags: CommonFlags & { case?: string }) => {
      const items = await listEvidence({
        ...homeOf(flags),
        ...(flags.case === undefined ? {} : { caseId: flags.case }),
      });
      if (flags.json === true) {
        printJson(items);
        return;
      }
      printTable<EvidenceItem>(items, [
        { header: 'ID', value: (item) => item.id },
        { header: 'CASE', value: (item) => item.caseId },
        { header: 'SUBJECT', value: (item) => item.subject },
        { header: 'STATUS', value: (item) => item.status },
        { header: 'ORIGIN', value: (item) => item.origin },
        { header: 'BYTES', value: (item) => item.imageSize ?? '', align: 'right' },
        { header: 'SHA256', value: (item) => item.imageSha256?.slice(0, 16) ?? '' },
      ]);
    });

  evidence
    .command('show')
    .description('an item with its blobs, custody log and recorded VM configuration')
    .argument('<id>', 'evidence item id')
    .option('--home <dir>', HOME_HELP)
    .option('--json', 'print as JSON')
    .action(async (id: string, flags: CommonFlags) => {
      const details = await showEvidence(id, homeOf(flags));
      if (flags.json === true) {
        printJson(details);
        return;
      }
      const { item } = details;
      const lines = [
        `item     ${item.id} (${item.status}, ${item.origin})`,
        `case     ${item.caseId}`,
        `subject  ${item.subject}`,
        `image    ${item.imageSize ?? 0} bytes, sha256 ${item.imageSha256 ?? 'none'}`,
        'blobs',
        ...details.blobs.map(
          (blob) =>
            `  ${blob.role.padEnd(14)} ${blob.sha256}  ${blob.size} bytes (${blob.encoding})`,
        ),
        'custody',
        ...details.events.map(
          (event) =>
            `  #${event.seq} ${event.at} ${event.action.padEnd(9)} by ${event.actor.name} on ${event.host}${event.reason === '' ? '' : `: ${event.reason}`}`,
        ),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  evidence
    .command('verify')
    .description(
      'recompute every hash, check the custody chain and every signature; exit 1 naming the first mismatch',
    )
    .argument('<id>', 'evidence item id')
    .option('--no-record', 'do not append a "verified" custody event on success')
    .option('--home <dir>', HOME_HELP)
    .option('--json', 'print the report as JSON')
    .action(async (id: string, flags: CommonFlags & { record: boolean }) => {
      const report = await withProgress(flags, (bar) =>
        verifyEvidence(id, {
          ...homeOf(flags),
          record: flags.record,
          onProgress: (progress) => bar.update(progress),
        }),
      );
      if (!report.ok) process.exitCode = 1;
      if (flags.json === true) {
        printJson(report);
        return;
      }
      if (report.ok) {
        const signers = report.signers.map((s) => `${s.name} (${s.fingerprint})`).join(', ');
        const withheld =
          report.withheld.length === 0
            ? ''
            : `; withheld by the sender: ${report.withheld.join(', ')}`;
        process.stdout.write(
          `OK ${id}: ${report.eventsChecked} custody events, ${report.blobsChecked} blobs; signed by ${signers}${withheld}\n`,
        );
      } else {
        process.stdout.write(
          `FAILED ${id}: ${report.problem?.subject ?? 'unknown'}: ${report.problem?.reason ?? ''}\n`,
        );
      }
    });

  evidence
    .command('export')
    .description('seal an item for an analyst: encrypted to their X25519 key, signed by this party')
    .argument('<id>', 'evidence item id')
    .requiredOption(
      '--to <key>',
      'the analyst\'s key: "x25519:KEY" or a file from "keys show --public"',
    )
    .requiredOption('-o, --output <file>', 'bundle file to write (.vmsb)')
    .option('--pseudonymise', "replace the tenant's identity with pseudonyms and withhold it")
    .option('--reason <text>', 'why it is handed over (recorded in custody)')
    .option('--home <dir>', HOME_HELP)
    .option('--json', 'print the result as JSON')
    .action(
      async (
        id: string,
        flags: CommonFlags & {
          to: string;
          output: string;
          pseudonymise?: boolean;
          reason?: string;
        },
      ) => {
        const result = await withProgress(flags, (bar) =>
          exportEvidence(id, {
            ...homeOf(flags),
            to: flags.to,
            output: flags.output,
            pseudonymise: flags.pseudonymise === true,
            ...(flags.reason === undefined ? {} : { reason: flags.reason }),
            onProgress: (progress) => bar.update(progress),
          }),
        );
        if (flags.json === true) printJson(result);
        else
          process.stdout.write(
            `${result.output}: ${result.size} bytes, sha256 ${result.sha256}, for key ${result.recipient}\n`,
          );
      },
    );

  evidence
    .command('import')
    .description('open a bundle sent to this party, verify everything, record its receipt')
    .argument('<bundle>', 'a .vmsb file')
    .option('--reason <text>', 'recorded in the receipt custody event')
    .option(
      '--expect-sender <key>',
      "refuse unless signed by this provider: ed25519:KEY, its fingerprint, or a 'keys show --public' file",
    )
    .option('--home <dir>', HOME_HELP)
    .option('--json', 'print the result as JSON')
    .action(
      async (bundle: string, flags: CommonFlags & { reason?: string; expectSender?: string }) => {
        const result = await withProgress(flags, (bar) =>
          importEvidence(bundle, {
            ...homeOf(flags),
            ...(flags.reason === undefined ? {} : { reason: flags.reason }),
            ...(flags.expectSender === undefined ? {} : { expectSender: flags.expectSender }),
            onProgress: (progress) => bar.update(progress),
          }),
        );
        if (flags.json === true) printJson(result);
        else
          process.stdout.write(
            `${result.itemId} received from ${result.sender.name} (key ${result.sender.fingerprint}, now trusted: confirm this fingerprint with the sender), case ${result.caseId}, subject ${result.subject}\n`,
          );
      },
    );

  evidence
    .command('gc')
    .description('remove blobs no item, analysis or report references (left by crashed runs)')
    .option('--grace-minutes <n>', 'keep unreferenced blobs younger than this', '60')
    .option('--dry-run', 'only list what would be removed')
    .option('--home <dir>', HOME_HELP)
    .option('--json', 'print the result as JSON')
    .action(async (flags: CommonFlags & { graceMinutes: string; dryRun?: boolean }) => {
      const graceMinutes = Number(flags.graceMinutes);
      if (!Number.isFinite(graceMinutes) || graceMinutes < 0) {
        throw new VmsightError(
          'INVALID_ARGUMENT',
          `--grace-minutes must be a number of minutes ≥ 0`,
        );
      }
      const result = await collectEvidenceGarbage({
        ...homeOf(flags),
        graceMinutes,
        dryRun: flags.dryRun === true,
      });
      if (flags.json === true) printJson(result);
      else
        process.stdout.write(
          `${flags.dryRun === true ? 'would remove' : 'removed'} ${result.removed.length} unreferenced blob(s), ${result.bytes} bytes; kept ${result.kept}\n`,
        );
    });
}
