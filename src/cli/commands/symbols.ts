import type { Command } from 'commander';
import { buildSymbols, checkSymbols } from '../../app/index.js';
import { printJson } from '../output.js';

interface SymbolsBuildFlags {
  vm?: string;
  dump?: string;
  kernel?: string;
  output: string;
  json?: boolean;
}

/** `vmsight symbols build`: a Volatility 3 ISF from the kernel's BTF and kallsyms in guest memory. */
export function registerSymbolsCommand(program: Command): void {
  const symbols = program.command('symbols').description('kernel symbol tables (Volatility 3 ISF)');
  symbols
    .command('build')
    .description(
      'build an ISF from the BTF of --kernel and the kallsyms in guest memory (checked against Volatility 3 rules before it is written)',
    )
    .option('--vm <name>', 'a registered or lab VM (live RAM)')
    .option('--dump <file>', 'an ELF core from dump-guest-memory')
    .requiredOption('--kernel <vmlinux>', "the guest kernel's vmlinux (with .BTF)")
    .requiredOption('-o, --output <file>', 'where to write the ISF (.json or .json.xz)')
    .option('--json', 'print a JSON summary')
    .action(async (flags: SymbolsBuildFlags) => {
      const result = await buildSymbols({
        vm: flags.vm,
        dump: flags.dump,
        kernel: flags.kernel,
        output: flags.output,
      });
      if (flags.json === true) printJson(result);
      else {
        process.stdout.write(
          `${result.output}: ${result.symbols} symbols, ${result.userTypes} types for ${result.banner}\n`,
        );
      }
    });
  symbols
    .command('check')
    .description(
      'check that an ISF (.json or .json.xz) is one Volatility 3 accepts; exit status 1 when not',
    )
    .argument('<file>', 'the ISF file')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, flags: { json?: boolean }) => {
      const result = await checkSymbols(file);
      if (flags.json === true) printJson(result);
      else if (result.valid) process.stdout.write(`${file}: valid Volatility 3 ISF\n`);
      else {
        const lines = result.problems.map((p) => `  ${p.path}: ${p.message}\n`).join('');
        process.stdout.write(`${file}: not a valid Volatility 3 ISF\n${lines}`);
      }
      if (!result.valid) process.exitCode = 1;
    });
}
