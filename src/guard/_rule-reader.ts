import { basename } from 'node:path';
import type { LineCounter } from 'yaml';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { VmsightError } from '../core/index.js';
import type { AccessPattern, Matcher, MemoryField, ValueCondition } from './rule.js';

/**
 * Reads a rule-file node and reports every problem with the file and the line it is on.
 */
export class RuleReader {
  readonly #file: string;
  readonly #lines: LineCounter;

  constructor(file: string, lines: LineCounter) {
    this.#file = file;
    this.#lines = lines;
  }

  fail(node: Node | null | undefined, reason: string): never {
    const offset = node?.range?.[0] ?? 0;
    const line = this.#lines.linePos(offset).line;
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot load rule file "${basename(this.#file)}" line ${line}: ${reason}`,
      { details: { file: this.#file, line, reason } },
    );
  }

  map(node: Node | null | undefined, what: string, allowed: readonly string[]): Map<string, Node> {
    if (!isMap(node)) this.fail(node, `${what} must be a mapping`);
    const out = new Map<string, Node>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) this.fail(node, `${what} has a key that is not a plain name`);
      if (!allowed.includes(key)) {
        this.fail(
          pair.key as Node,
          `unknown key "${key}" in ${what} (expected one of ${allowed.join(', ')})`,
        );
      }
      out.set(key, pair.value as Node);
    }
    return out;
  }

  required(
    fields: Map<string, Node>,
    key: string,
    where: Node | null | undefined,
    what: string,
  ): Node {
    const value = fields.get(key);
    if (value === undefined || value === null) this.fail(where, `${what} is missing "${key}"`);
    return value;
  }

  string(node: Node | null | undefined, what: string): string {
    if (!isScalar(node) || typeof node.value !== 'string' || node.value.length === 0) {
      this.fail(node, `${what} must be a non-empty string`);
    }
    return node.value;
  }

  integer(node: Node | null | undefined, what: string, min = 0, max = 0xffff_ffff): number {
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isSafeInteger(node.value)) {
      this.fail(node, `${what} must be an integer`);
    }
    if (node.value < min || node.value > max) {
      this.fail(node, `${what} must be between ${min} and ${max}, not ${node.value}`);
    }
    return node.value;
  }

  oneOf<T extends string>(node: Node | null | undefined, what: string, values: readonly T[]): T {
    const text = this.string(node, what);
    if (!(values as readonly string[]).includes(text)) {
      this.fail(node, `${what} must be one of ${values.join(', ')}, not "${text}"`);
    }
    return text as T;
  }

  list(node: Node | null | undefined, what: string, minItems = 1): readonly Node[] {
    if (!isSeq(node) || node.items.length < minItems) {
      this.fail(node, `${what} must be a list of at least ${minItems} item(s)`);
    }
    return node.items as Node[];
  }

  condition(node: Node | null | undefined, what: string): ValueCondition {
    const fields = this.map(node, what, ['mask', 'eq', 'ne', 'min', 'max', 'in']);
    if (fields.size === 0) this.fail(node, `${what} must test something`);
    const get = (key: string): number | undefined => {
      const value = fields.get(key);
      return value === undefined ? undefined : this.integer(value, `${what}.${key}`);
    };
    const inNode = fields.get('in');
    const condition: ValueCondition = {
      ...optional('mask', get('mask')),
      ...optional('eq', get('eq')),
      ...optional('ne', get('ne')),
      ...optional('min', get('min')),
      ...optional('max', get('max')),
      ...(inNode === undefined
        ? {}
        : {
            in: this.list(inNode, `${what}.in`).map((item) =>
              this.integer(item, `${what}.in item`),
            ),
          }),
    };
    return condition;
  }

  access(node: Node | null | undefined, what: string, span: number): AccessPattern {
    const fields = this.map(node, what, ['offset', 'dir', 'value', 'index']);
    const offset = this.integer(
      this.required(fields, 'offset', node, what),
      `${what}.offset`,
      0,
      span - 1,
    );
    const dirNode = fields.get('dir');
    const direction =
      dirNode === undefined
        ? 'any'
        : this.oneOf(dirNode, `${what}.dir`, ['read', 'write', 'any'] as const);
    const valueNode = fields.get('value');
    const indexNode = fields.get('index');
    let index: AccessPattern['index'];
    if (indexNode !== undefined) {
      const indexFields = this.map(indexNode, `${what}.index`, ['offset', 'value', 'split_word']);
      const split = indexFields.get('split_word');
      if (split !== undefined && !(isScalar(split) && typeof split.value === 'boolean'))
        this.fail(split, `${what}.index.split_word must be true or false`);
      index = {
        offset: this.integer(
          this.required(indexFields, 'offset', indexNode, `${what}.index`),
          `${what}.index.offset`,
          0,
          span - 1,
        ),
        value: this.condition(
          this.required(indexFields, 'value', indexNode, `${what}.index`),
          `${what}.index.value`,
        ),
        ...(split !== undefined && isScalar(split) && split.value === true
          ? { splitWord: true }
          : {}),
      };
    }
    return {
      offset,
      direction,
      ...(valueNode === undefined ? {} : { value: this.condition(valueNode, `${what}.value`) }),
      ...(index === undefined ? {} : { index }),
    };
  }

  entry(node: Node | null | undefined): { stride: number; minus: number } {
    const f = this.map(node, 'match.memory.entry', ['stride', 'minus']);
    return {
      stride: this.integer(
        this.required(f, 'stride', node, 'match.memory.entry'),
        'match.memory.entry.stride',
        1,
        4096,
      ),
      minus:
        f.get('minus') === undefined
          ? 0
          : this.integer(f.get('minus'), 'match.memory.entry.minus', 0, 1),
    };
  }

  matcher(node: Node | null | undefined, span: number): Matcher {
    const fields = this.map(node, 'match', ['run', 'sequence', 'presence', 'memory']);
    if (fields.size !== 1)
      this.fail(node, 'match must name exactly one of run, sequence, presence, memory');
    const [kind, body] = [...fields][0] as [string, Node];
    switch (kind) {
      case 'run': {
        const f = this.map(body, 'match.run', ['count', 'reset', 'at_least']);
        return {
          kind: 'run',
          count: this.access(this.required(f, 'count', body, 'match.run'), 'match.run.count', span),
          reset: this.list(this.required(f, 'reset', body, 'match.run'), 'match.run.reset').map(
            (item, i) => this.access(item, `match.run.reset[${i}]`, span),
          ),
          atLeast: this.integer(
            this.required(f, 'at_least', body, 'match.run'),
            'match.run.at_least',
            2,
            1 << 24,
          ),
        };
      }
      case 'sequence': {
        const f = this.map(body, 'match.sequence', ['steps', 'within']);
        return {
          kind: 'sequence',
          steps: this.list(
            this.required(f, 'steps', body, 'match.sequence'),
            'match.sequence.steps',
            2,
          ).map((item, i) => this.access(item, `match.sequence.steps[${i}]`, span)),
          within: this.integer(
            this.required(f, 'within', body, 'match.sequence'),
            'match.sequence.within',
            2,
            1 << 20,
          ),
        };
      }
      case 'presence': {
        const f = this.map(body, 'match.presence', ['any']);
        return {
          kind: 'presence',
          accesses: this.list(
            this.required(f, 'any', body, 'match.presence'),
            'match.presence.any',
          ).map((item, i) => this.access(item, `match.presence.any[${i}]`, span)),
        };
      }
      case 'memory': {
        const what = 'match.memory';
        const f = this.map(body, what, [
          'kick',
          'address_from',
          'address_from_high',
          'entry',
          'follow',
          'length',
          'all',
          'overlaps_mmio',
        ]);
        const length = this.integer(
          this.required(f, 'length', body, what),
          `${what}.length`,
          1,
          256,
        );
        const high = f.get('address_from_high');
        const overlaps = f.get('overlaps_mmio');
        const allNode = f.get('all');
        if (allNode === undefined && overlaps === undefined) {
          this.fail(body, `${what} must test "all" fields or "overlaps_mmio"`);
        }
        const field = (item: Node, i: number): MemoryField => {
          const ff = this.map(item, `${what}.all[${i}]`, ['at', 'width', 'value']);
          const width = this.integer(
            this.required(ff, 'width', item, `${what}.all[${i}]`),
            `${what}.all[${i}].width`,
            1,
            8,
          );
          if (![1, 2, 4, 8].includes(width))
            this.fail(ff.get('width'), `${what}.all[${i}].width must be 1, 2, 4 or 8`);
          const at = this.integer(
            this.required(ff, 'at', item, `${what}.all[${i}]`),
            `${what}.all[${i}].at`,
            0,
            length - width,
          );
          return {
            at,
            width: width as MemoryField['width'],
            value: this.condition(
              this.required(ff, 'value', item, `${what}.all[${i}]`),
              `${what}.all[${i}].value`,
            ),
          };
        };
        return {
          kind: 'memory',
          kick: this.access(this.required(f, 'kick', body, what), `${what}.kick`, span),
          addressFrom: this.integer(
            this.required(f, 'address_from', body, what),
            `${what}.address_from`,
            0,
            span - 1,
          ),
          ...(high === undefined
            ? {}
            : { addressFromHigh: this.integer(high, `${what}.address_from_high`, 0, span - 1) }),
          ...(f.get('entry') === undefined ? {} : { entry: this.entry(f.get('entry')) }),
          follow:
            f.get('follow') === undefined
              ? []
              : this.list(f.get('follow'), `${what}.follow`).map((hop, i) => {
                  const h = this.map(hop, `${what}.follow[${i}]`, [
                    'at',
                    'mask',
                    'stop_bit',
                    'fallback_at',
                  ]);
                  const stop = h.get('stop_bit');
                  const fallback = h.get('fallback_at');
                  return {
                    at: this.integer(
                      this.required(h, 'at', hop, `${what}.follow[${i}]`),
                      `${what}.follow[${i}].at`,
                      0,
                      4096,
                    ),
                    mask: this.integer(
                      this.required(h, 'mask', hop, `${what}.follow[${i}]`),
                      `${what}.follow[${i}].mask`,
                    ),
                    ...(stop === undefined
                      ? {}
                      : { stopBit: this.integer(stop, `${what}.follow[${i}].stop_bit`, 0, 31) }),
                    ...(fallback === undefined
                      ? {}
                      : {
                          fallbackAt: this.integer(
                            fallback,
                            `${what}.follow[${i}].fallback_at`,
                            0,
                            4096,
                          ),
                        }),
                  };
                }),
          length,
          all: allNode === undefined ? [] : this.list(allNode, `${what}.all`).map(field),
          ...(overlaps === undefined
            ? {}
            : {
                overlapsMmio: {
                  at: this.integer(
                    this.map(overlaps, `${what}.overlaps_mmio`, ['at']).get('at'),
                    `${what}.overlaps_mmio.at`,
                    0,
                    length - 8,
                  ),
                },
              }),
        };
      }
      default:
        return this.fail(node, `unknown matcher "${kind}"`);
    }
  }
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}
