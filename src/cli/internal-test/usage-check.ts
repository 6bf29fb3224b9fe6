import type { Argument, Command, Option } from 'commander';
import { extractReadmeCommands, type ReadmeCommand, type ShellWord } from './readme-commands.js';

/**
 * Holds command lines to a commander program without running anything: the subcommand path must
 * exist, each option must be declared on the command or an ancestor (commander lets a parent's
 * options stand anywhere after it), an option that takes a value must get one its parser accepts,
 * required options and arguments must be present, and no argument may be left over (commander 13+
 * refuses excess arguments). It reads only commander's public API: `commands`, `options`,
 * `registeredArguments`, and each option's `long`, `short`, `required`, `optional`, `variadic`,
 * `mandatory`, `parseArg`.
 */
export interface ReadmeUsageReport {
  readonly commands: readonly ReadmeCommand[];
  /** One line a problem: `README.md:312: vmsight watch: unknown option --sensr`. */
  readonly problems: readonly string[];
}

/** Checks every vmsight command of `markdown` (named `name` in messages) against `program`. */
export function checkReadmeUsage(
  markdown: string,
  program: Command,
  name: string,
): ReadmeUsageReport {
  const commands = extractReadmeCommands(markdown);
  const problems = commands.flatMap((command) => {
    const variants = usageVariants(command.words);
    const messages =
      typeof variants === 'string'
        ? [variants]
        : variants.flatMap((words) => checkUsage(program, words, command.complete));
    return [...new Set(messages)].map((message) => `${name}:${command.line}: ${message}`);
  });
  return { commands, problems };
}

/**
 * Usage notation `[--json]` marks optional parts: the command must hold both with every optional
 * group (so each option in one is checked) and without any (so the rest alone is complete).
 */
export function usageVariants(words: readonly ShellWord[]): string[][] | string {
  const all: string[] = [];
  const none: string[] = [];
  let depth = 0;
  for (const word of words) {
    let value = word.value;
    if (word.opensGroup) {
      value = value.slice(1);
      depth += 1;
    }
    const optional = depth > 0;
    if (word.closesGroup) {
      value = value.slice(0, -1);
      depth -= 1;
    }
    if (depth < 0) return 'unbalanced "]" of optional-part notation';
    if (value.length > 0) all.push(value);
    if (value.length > 0 && !optional) none.push(value);
  }
  return depth === 0 ? [all, none] : 'unclosed "[" of optional-part notation';
}

interface Found {
  readonly option: Option;
  readonly owner: Command;
}

/**
 * The problems of `vmsight …args` for `program`, each `vmsight SUBCOMMAND: what is wrong`.
 * `complete` false (a command named in prose) skips the checks for missing parts.
 */
export function checkUsage(program: Command, args: readonly string[], complete: boolean): string[] {
  const walk = new UsageWalk(program, args, complete);
  walk.run();
  return walk.problems;
}

/** One pass over a command line, in the order commander's `parseOptions` reads it. */
class UsageWalk {
  readonly problems: string[] = [];
  private readonly chain: Command[];
  private readonly given = new Map<Command, Set<string>>();
  private readonly positionals: string[] = [];
  private command: Command;
  private index = 0;
  /** `--help` or `--version` given: commander prints and exits, nothing is missing then. */
  private exits = false;
  /** After an unknown option nobody knows whether the next word was its value. */
  private unknownOption = false;

  constructor(
    program: Command,
    private readonly args: readonly string[],
    private readonly complete: boolean,
  ) {
    this.chain = [program];
    this.command = program;
  }

  run(): void {
    let literal = false;
    for (; this.index < this.args.length; this.index += 1) {
      const arg = this.args[this.index] ?? '';
      if (!literal && arg === '--') literal = true;
      else if (literal || !isOptionLike(arg)) {
        if (!this.operand(arg)) return;
      } else this.option(arg);
    }
    if (this.exits || this.unknownOption) return;
    const { command } = this;
    if (command.commands.length > 0 && command.registeredArguments.length === 0) {
      const names = command.commands.map((item) => item.name()).join(', ');
      if (this.complete) this.problems.push(`${this.where()}: needs a command (${names})`);
      return;
    }
    this.problems.push(
      ...argumentProblems(
        this.where(),
        command.registeredArguments,
        this.positionals,
        this.complete,
      ),
    );
    if (this.complete) this.checkMandatory();
  }

  /** A subcommand name or an argument; false when the rest cannot be resolved. */
  private operand(arg: string): boolean {
    const { command } = this;
    if (command.commands.length === 0 || this.positionals.length > 0) {
      this.positionals.push(arg);
      return true;
    }
    const sub = command.commands.find(
      (item) => item.name() === arg || item.aliases().includes(arg),
    );
    if (sub !== undefined) {
      this.command = sub;
      this.chain.push(sub);
      return true;
    }
    if (command.registeredArguments.length > 0) {
      this.positionals.push(arg);
      return true;
    }
    // Commander's implicit `help [command]` of a command with subcommands.
    if (arg === 'help') {
      this.exits = true;
      return false;
    }
    const names = command.commands.map((item) => item.name()).join(', ');
    this.problems.push(`${this.where()}: unknown command ${arg} (commands: ${names})`);
    this.unknownOption = true;
    return false;
  }

  /** One option word: `--long`, `--long=value` or a short group (`-abc`, `-ofile`). */
  private option(arg: string): void {
    let word: string | undefined = arg;
    while (word !== undefined) {
      const { flag, long, value } = splitOptionWord(word);
      word = undefined;
      const found = this.find(flag);
      if (found === undefined) {
        if (this.isHelp(flag)) this.exits = true;
        else {
          this.problems.push(`${this.where()}: unknown option ${flag}`);
          this.unknownOption = true;
        }
        return;
      }
      const { option, owner } = found;
      this.given.set(owner, (this.given.get(owner) ?? new Set()).add(option.attributeName()));
      // Commander prints the version and exits as soon as it reads this option.
      if (owner === this.chain[0] && option.attributeName() === 'version') this.exits = true;
      const takesValue = option.required || option.optional;
      if (value !== undefined && !long && !takesValue) {
        word = `-${value}`;
      } else if (value !== undefined) {
        if (takesValue) this.checkValue(option, flag, value);
        else this.problems.push(`${this.where()}: option ${flag} takes no value`);
      } else {
        this.separateValue(option, flag);
      }
    }
  }

  /** The value(s) in the words after an option. */
  private separateValue(option: Option, flag: string): void {
    const next = this.args[this.index + 1];
    if (option.required) {
      // Prose may name an option without its value (`vm add --pid`); a command line may not.
      if (next === undefined && !this.complete) return;
      if (next === undefined || (isOptionLike(next) && (this.find(next) ?? this.isHelp(next)))) {
        this.problems.push(`${this.where()}: option ${flag} needs a value`);
        return;
      }
      this.index += 1;
      this.checkValue(option, flag, next);
    } else if (option.optional && next !== undefined && !isOptionLike(next)) {
      this.index += 1;
      this.checkValue(option, flag, next);
    }
    while (option.variadic && !isOptionLike(this.args[this.index + 1] ?? '-x')) {
      this.index += 1;
      this.checkValue(option, flag, this.args[this.index] ?? '');
    }
  }

  private checkMandatory(): void {
    for (const owner of this.chain) {
      for (const option of owner.options) {
        const missing =
          option.mandatory &&
          option.defaultValue === undefined &&
          this.given.get(owner)?.has(option.attributeName()) !== true;
        if (missing) {
          this.problems.push(
            `${this.where()}: missing required option ${option.long ?? option.short}`,
          );
        }
      }
    }
  }

  private checkValue(option: Option, flag: string, value: string): void {
    const problem = parseProblem(option, value);
    if (problem !== undefined) this.problems.push(`${this.where()}: option ${flag} ${problem}`);
  }

  /** The option a flag names: commander lets every command up the chain read its own anywhere. */
  private find(flag: string): Found | undefined {
    for (const owner of this.chain) {
      const option = owner.options.find((item) => item.long === flag || item.short === flag);
      if (option !== undefined) return { option, owner };
    }
    return undefined;
  }

  /** The help flags, which commander keeps out of `options` but lists among the visible ones. */
  private isHelp(flag: string): boolean {
    const { command } = this;
    return command
      .createHelp()
      .visibleOptions(command)
      .some(
        (item) => !command.options.includes(item) && (item.long === flag || item.short === flag),
      );
  }

  private where(): string {
    return this.chain.map((item) => item.name()).join(' ');
  }
}

function argumentProblems(
  where: string,
  declared: readonly Argument[],
  positionals: readonly string[],
  complete: boolean,
): string[] {
  const problems: string[] = [];
  const last = declared.at(-1);
  if (last?.variadic !== true && positionals.length > declared.length) {
    const extra = positionals.slice(declared.length).join(' ');
    const takes = declared.map((item) => item.name()).join(', ') || 'none';
    problems.push(`${where}: too many arguments: ${extra} (arguments: ${takes})`);
  }
  declared.forEach((argument, index) => {
    const values = argument.variadic
      ? positionals.slice(index)
      : positionals.slice(index, index + 1);
    if (values.length === 0 && argument.required && complete) {
      problems.push(`${where}: missing argument <${argument.name()}>`);
    }
    for (const value of values) {
      const problem = parseProblem(argument, value);
      if (problem !== undefined)
        problems.push(`${where}: argument <${argument.name()}> ${problem}`);
    }
  });
  return problems;
}

/** Why the option's or argument's own parser refuses `value` (the CLI's parsers are pure). */
function parseProblem(item: Option | Argument, value: string): string | undefined {
  if (item.parseArg === undefined) return undefined;
  try {
    item.parseArg(value, item.defaultValue);
    return undefined;
  } catch (error) {
    return `refuses "${value}": ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** `--long`, `--long=value`, `-s` or `-sREST` (a value or more flags), as commander splits them. */
function splitOptionWord(word: string): { flag: string; long: boolean; value?: string } {
  if (!word.startsWith('--')) {
    return word.length > 2
      ? { flag: word.slice(0, 2), long: false, value: word.slice(2) }
      : { flag: word, long: false };
  }
  const equals = word.indexOf('=');
  return equals > 0
    ? { flag: word.slice(0, equals), long: true, value: word.slice(equals + 1) }
    : { flag: word, long: true };
}

/** As commander: a word of 2+ characters starting with `-` that is not a negative number. */
function isOptionLike(word: string): boolean {
  return word.length > 1 && word.startsWith('-') && !/^-(\d+|\d*\.\d+)(e[+-]?\d+)?$/.test(word);
}
