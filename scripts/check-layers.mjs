// Enforces the layer table of scripts/layers.mjs over src/: a file may import another folder only
// if its layer allows it, and only through that folder's index.ts (tests: also internal.ts); and
// no import cycle exists between files. Dependency-free on purpose: the registry here cannot serve
// every platform binary of the usual resolver packages, so a complete lockfile could not hold them.
// Usage: node scripts/check-layers.mjs [ROOT]   (exit 1 and one line per problem when any)
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { findFiles } from './find-files.mjs';
import { ENTRY_POINTS, LAYERS, TEST_ENTRY_POINTS, TEST_EXTRA_LAYERS } from './layers.mjs';

// Static imports and re-exports (`from '…'`), side-effect imports and dynamic `import('…')`.
const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)'([^']+)'/gm;

export function checkLayers(root = '.') {
  const srcRoot = resolve(root, 'src');
  const problems = [];
  const graph = new Map();
  const files = findFiles(srcRoot, '.ts');
  for (const file of files) {
    const from = relative(srcRoot, file).split(sep);
    const fromLayer = from[0];
    // internal.ts files are test support by definition: only tests import them, the build omits them.
    const isTest =
      /\.(test|bench)\.ts$/.test(file) ||
      from.includes('internal-test') ||
      from.at(-1) === 'internal.ts';
    const edges = [];
    graph.set(file, edges);
    if (!(fromLayer in LAYERS)) {
      problems.push(`${rel(root, file)}: folder "src/${fromLayer}" is not in the layer table`);
      continue;
    }
    // JSDoc @example blocks import their own module: scan code, not comments.
    const source = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const match of source.matchAll(SPECIFIER)) {
      const specifier = match[1];
      if (!specifier.startsWith('.')) continue;
      const target = resolveSpecifier(dirname(file), specifier);
      if (target === undefined) {
        problems.push(`${rel(root, file)}: cannot resolve "${specifier}"`);
        continue;
      }
      edges.push(target);
      const to = relative(srcRoot, target).split(sep);
      const toLayer = to[0];
      if (toLayer === fromLayer) continue;
      const allowed = [...LAYERS[fromLayer], ...(isTest ? TEST_EXTRA_LAYERS : [])];
      if (!allowed.includes(toLayer)) {
        problems.push(
          `${rel(root, file)}: "${fromLayer}" may not import "${toLayer}" ("${specifier}"); allowed: ${allowed.join(', ') || 'none'}`,
        );
      }
      const entries = isTest ? TEST_ENTRY_POINTS : ENTRY_POINTS;
      if (to.length !== 2 || !entries.includes(to[1])) {
        problems.push(
          `${rel(root, file)}: imports "${specifier}" deep inside "src/${toLayer}"; use its ${entries.join(' or ')}`,
        );
      }
    }
  }
  for (const cycle of findCycles(graph)) {
    problems.push(`import cycle: ${cycle.map((file) => rel(root, file)).join(' -> ')}`);
  }
  return problems;
}

function resolveSpecifier(directory, specifier) {
  const base = resolve(directory, specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((candidate) => candidate.endsWith('.ts') && existsSync(candidate));
}

// Tarjan's strongly connected components; each component of 2+ files (or a self-import) is a cycle.
function findCycles(graph) {
  let index = 0;
  const stack = [];
  const state = new Map();
  const cycles = [];
  const visit = (node) => {
    const entry = { index, low: index, onStack: true };
    index += 1;
    state.set(node, entry);
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const seen = state.get(next);
      if (seen === undefined) {
        visit(next);
        entry.low = Math.min(entry.low, state.get(next).low);
      } else if (seen.onStack) {
        entry.low = Math.min(entry.low, seen.index);
      }
    }
    if (entry.low === entry.index) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        state.get(member).onStack = false;
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) {
        cycles.push(component.reverse());
      }
    }
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

function rel(root, file) {
  return relative(root, file);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = checkLayers(process.argv[2] ?? '.');
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) process.exit(1);
  console.log('layers: every import follows the layer table, through index.ts, without cycles');
}
