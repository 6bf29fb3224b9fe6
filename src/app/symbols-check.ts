import { checkIsfFile, type IsfProblem } from '../symbols/index.js';

export interface SymbolsCheckResult {
  readonly file: string;
  /** True when Volatility 3 would accept the file. */
  readonly valid: boolean;
  /** The first problems found (at most `maxProblems`), each with its JSON path. */
  readonly problems: readonly IsfProblem[];
}

/** `vmsight symbols check FILE`: is this ISF (ours, dwarf2json's, a symbol pack's) one Volatility 3 accepts? */
export async function checkSymbols(
  file: string,
  options: { readonly maxProblems?: number } = {},
): Promise<SymbolsCheckResult> {
  const problems = await checkIsfFile(file, { maxProblems: options.maxProblems ?? 50 });
  return { file, valid: problems.length === 0, problems };
}
