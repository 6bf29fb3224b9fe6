import { valueMatches, type AccessPattern, type EscapeRule } from './rule.js';

/** Every access pattern a rule's matcher names (the registers it watches). */
export function patternsOf(rule: EscapeRule): AccessPattern[] {
  const match = rule.match;
  switch (match.kind) {
    case 'run':
      return [match.count, ...match.reset];
    case 'sequence':
      return [...match.steps];
    case 'presence':
      return [...match.accesses];
    case 'memory':
      return [match.kick];
  }
}

/** Whether `offset` is an index register of the rule, and whether word writes to it split. */
export function isIndexOffset(rule: EscapeRule, offset: number): false | 'split' | 'whole' {
  for (const pattern of patternsOf(rule)) {
    if (pattern.index?.offset === offset)
      return pattern.index.splitWord === true ? 'split' : 'whole';
  }
  return false;
}

/**
 * Whether one access (by offset from the device base) satisfies the pattern; `index` holds the last
 * value written to each index register of the rule.
 */
export function accessMatches(
  pattern: AccessPattern,
  index: ReadonlyMap<number, number>,
  offset: number,
  write: boolean,
  value: number,
): boolean {
  if (pattern.offset !== offset) return false;
  if (pattern.direction === 'write' && !write) return false;
  if (pattern.direction === 'read' && write) return false;
  if (pattern.value !== undefined && !valueMatches(pattern.value, value)) return false;
  if (pattern.index !== undefined) {
    const current = index.get(pattern.index.offset);
    if (current === undefined || !valueMatches(pattern.index.value, current)) return false;
  }
  return true;
}
