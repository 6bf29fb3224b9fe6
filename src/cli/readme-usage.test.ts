import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommanderError, type Command } from 'commander';
import { buildProgram } from './program.js';
import { extractReadmeCommands } from './internal-test/readme-commands.js';
import { checkReadmeUsage, checkUsage, usageVariants } from './internal-test/usage-check.js';

// The brief: "Keep README's usage true: every command shown must work as shown." Each vmsight
// command README shows is resolved against the command tree `vmsight` itself builds.
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** Commands README showed when this test was written; fewer means the extraction broke. */
const MIN_README_COMMANDS = 79;

/** Wrong on purpose, line by line, so the checker is seen to fail (line numbers in comments). */
const SYNTHETIC = [
  'Run `vmsight watch --sensr kvm` in prose; `vmsight vm add --pid` names an option.', // 1
  '',
  '```sh',
  '# a comment naming `npx vmsight lab bild`', // 4
  '$ VMSIGHT_HOME=/tmp/h npx vmsight vm add prod1 \\', // 5
  '    --qmp /run/q.sock --ram /dev/shm/r | tee out.txt && vmsight vm lst',
  'node bin/vmsight.js train --format nope --input x -o m.json', // 7
  'sudo vmsight ps --vm lab --plugin', // 8
  'npx vmsight evidence show [--json]', // 9
  'npx vmsight eval --dataset adfa-ld data extra', // 10
  'npx vmsight lab', // 11
  'npx vmsight …', // 12: a placeholder, not a command
  'vmsight train --input x -o m.json 2>&1 > log; vmsight --help; vmsight -V', // 13
  'vmsight ps --vm=lab --json=yes; vmsight train --format=adfa --input "a b" -om.json', // 14
  '```',
  '',
  '```json',
  '{"cmd": "vmsight nothing"}',
  '```',
  '```console',
  '$ vmsight lab status', // 21
  '# vmsight lab status --bogus', // 22: a root prompt in a session
  'vmsight lab bild (output, not a command)',
  '```',
].join('\n');

/**
 * Commander's own verdict on `vmsight …words`: the command tree parses them with every action
 * replaced by a no-op, so nothing runs. True when accepted (help and version count as accepted).
 */
function commanderAccepts(words: readonly string[]): boolean {
  const program = buildProgram();
  const quiet = (command: Command): void => {
    command.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
    if (command.commands.length === 0) command.action(() => {});
    command.commands.forEach(quiet);
  };
  quiet(program);
  try {
    program.parse([...words], { from: 'user' });
    return true;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0;
    throw error;
  }
}

void describe('README usage', () => {
  it('shows only vmsight commands, options and arguments the CLI declares', () => {
    const report = checkReadmeUsage(readFileSync(README, 'utf8'), buildProgram(), 'README.md');
    assert.deepEqual(report.problems, []);
    assert.ok(
      report.commands.length >= MIN_README_COMMANDS,
      `README yields ${report.commands.length} vmsight commands, expected ${MIN_README_COMMANDS}+`,
    );
    assert.ok(
      report.commands.some((command) => !command.complete),
      'no code span in prose found',
    );
  });

  it('reports wrong options, commands and values, and missing parts, naming the line', () => {
    const report = checkReadmeUsage(SYNTHETIC, buildProgram(), 'X.md');
    // The parser's words after "refuses" and the lists in parentheses change as the CLI grows.
    const problems = report.problems.map((line) =>
      line.replace(/(refuses "\w+"): .+/, '$1: …').replace(/ \([^)]*\)$/, ' (…)'),
    );
    assert.deepEqual(problems, [
      'X.md:1: vmsight watch: unknown option --sensr',
      'X.md:4: vmsight lab: unknown command bild (…)',
      'X.md:5: vmsight vm: unknown command lst (…)',
      'X.md:7: vmsight train: option --format refuses "nope": …',
      'X.md:8: vmsight ps: option --plugin needs a value',
      'X.md:9: vmsight evidence show: missing argument <id>',
      'X.md:10: vmsight eval: too many arguments: extra (…)',
      'X.md:11: vmsight lab: needs a command (…)',
      'X.md:13: vmsight train: missing required option --format',
      'X.md:14: vmsight ps: option --json takes no value',
      'X.md:22: vmsight lab status: unknown option --bogus',
    ]);
    assert.deepEqual(
      report.commands.map((command) => command.line),
      [1, 1, 4, 5, 5, 7, 8, 9, 10, 11, 13, 13, 13, 14, 14, 21, 22],
    );
  });

  it('agrees with commander itself on every complete command, README and wrong ones alike', () => {
    const program = buildProgram();
    const commands = [
      ...extractReadmeCommands(readFileSync(README, 'utf8')),
      ...extractReadmeCommands(SYNTHETIC),
    ];
    let compared = 0;
    for (const command of commands.filter((item) => item.complete)) {
      const variants = usageVariants(command.words);
      assert.ok(
        typeof variants !== 'string',
        `${command.line}: ${command.text}: ${String(variants)}`,
      );
      for (const words of variants) {
        const checker = checkUsage(program, words, true).length === 0;
        assert.equal(
          checker,
          commanderAccepts(words),
          `${command.line}: vmsight ${words.join(' ')}`,
        );
        compared += 1;
      }
    }
    assert.ok(compared > MIN_README_COMMANDS, `compared ${compared} command lines`);
  });
});
