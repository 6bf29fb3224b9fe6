import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, type Node } from 'yaml';
import { VmsightError } from '../core/index.js';
import { RuleReader } from './_rule-reader.js';
import { IoSpace, RuleAction, Severity, type EscapeRule, type SourceCheck } from './rule.js';

/** The rule files shipped with vmsight: data beside this module, found at run time. */
export const BUILTIN_RULES_DIR = fileURLToPath(new URL('./rules/', import.meta.url));

/** Rule files are small; a bigger one is not a rule file (and YAML aliases can amplify). */
const MAX_RULE_FILE_BYTES = 64 * 1024;

const TOP_KEYS = [
  'id',
  'title',
  'cve',
  'device',
  'severity',
  'action',
  'space',
  'base',
  'span',
  'checked_against',
  'benign_tested',
  'real_trigger',
  'match',
] as const;

/**
 * Parses and validates one rule file. A malformed file is rejected with its name, line and reason
 * (`INVALID_INPUT`).
 *
 * @example
 * ```ts
 * const rule = parseRuleFile('venom.yaml', text);
 * console.log(rule.cves); // ['CVE-2015-3456']
 * ```
 */
export function parseRuleFile(file: string, text: string): EscapeRule {
  const lines = new LineCounter();
  const document = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const reader = new RuleReader(file, lines);
  const [firstError] = document.errors;
  if (firstError !== undefined) {
    const line = firstError.linePos?.[0].line ?? lines.linePos(firstError.pos[0]).line;
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot load rule file "${basename(file)}" line ${line}: ${firstError.message.split('\n')[0]}`,
      { details: { file, line, reason: firstError.message } },
    );
  }
  const root = document.contents as Node | null;
  const fields = reader.map(root, 'the rule', TOP_KEYS);
  const need = (key: string): Node => reader.required(fields, key, root, 'the rule');
  const id = reader.string(need('id'), 'id');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) reader.fail(need('id'), `id "${id}" must be kebab-case`);
  const action = reader.oneOf(need('action'), 'action', Object.values(RuleAction));
  const cveNode = need('cve');
  const cves = reader.list(cveNode, 'cve', action === 'pass' ? 0 : 1).map((item) => {
    const cve = reader.string(item, 'cve item');
    if (!/^CVE-\d{4}-\d{4,}$/.test(cve)) reader.fail(item, `"${cve}" is not a CVE id`);
    return cve;
  });
  const span = reader.integer(need('span'), 'span', 1, 1 << 24);
  const checked = reader
    .list(need('checked_against'), 'checked_against')
    .map((item, i): SourceCheck => {
      const f = reader.map(item, `checked_against[${i}]`, ['file', 'fix', 'facts']);
      const fix = f.get('fix');
      return {
        file: reader.string(
          reader.required(f, 'file', item, `checked_against[${i}]`),
          `checked_against[${i}].file`,
        ),
        ...(fix === undefined ? {} : { fix: reader.string(fix, `checked_against[${i}].fix`) }),
        facts: reader.string(
          reader.required(f, 'facts', item, `checked_against[${i}]`),
          `checked_against[${i}].facts`,
        ),
      };
    });
  return {
    id,
    title: reader.string(need('title'), 'title'),
    cves,
    device: reader.string(need('device'), 'device'),
    severity: reader.oneOf(need('severity'), 'severity', Object.values(Severity)),
    action,
    space: reader.oneOf(need('space'), 'space', Object.values(IoSpace)),
    base: reader.integer(need('base'), 'base', 0, Number.MAX_SAFE_INTEGER),
    span,
    checkedAgainst: checked,
    benignTested: reader
      .list(need('benign_tested'), 'benign_tested')
      .map((item) => reader.string(item, 'benign_tested item')),
    ...(fields.get('real_trigger') === undefined
      ? {}
      : { realTrigger: reader.string(fields.get('real_trigger'), 'real_trigger') }),
    match: reader.matcher(need('match'), span),
    file,
  };
}

/**
 * Loads every `*.yaml` rule file of `dir` (default: the shipped rules), sorted by file name.
 * Duplicate ids are rejected.
 */
export async function loadRules(dir: string = BUILTIN_RULES_DIR): Promise<EscapeRule[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.yaml')).sort();
  } catch (cause) {
    throw new VmsightError('NOT_FOUND', `Cannot read rule directory "${dir}"`, { cause });
  }
  const rules: EscapeRule[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    const text = await readFile(file, 'utf8');
    if (Buffer.byteLength(text) > MAX_RULE_FILE_BYTES) {
      throw new VmsightError(
        'LIMIT_EXCEEDED',
        `Cannot load rule file "${name}": larger than ${MAX_RULE_FILE_BYTES} bytes`,
      );
    }
    const rule = parseRuleFile(file, text);
    const other = seen.get(rule.id);
    if (other !== undefined) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Cannot load rule file "${name}" line 1: id "${rule.id}" is also used by "${other}"`,
        {
          details: { file, line: 1 },
        },
      );
    }
    seen.set(rule.id, name);
    rules.push(rule);
  }
  return rules;
}
