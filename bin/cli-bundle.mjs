// The vmsight command's start-up: one esbuild bundle of src/cli/main.ts instead of ~300 TypeScript
// modules through tsx's loader. Node 20 runs module loader hooks on a separate thread and pays a
// synchronous round trip per module, so the hooks alone made `vmsight --version` take ~1.2 s;
// the bundle starts in ~0.25 s (docs/decisions.md, decision 10). The bundle is rebuilt whenever
// any file under src/ or package.json is newer than it, so the command still always runs the
// code in src/. Each file's `import.meta.url` is replaced by that file's own URL, because the
// code finds its package.json, rule files and fixtures relative to itself.
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIR = join(ROOT, 'src');
const ENTRY = join(SOURCE_DIR, 'cli', 'main.ts');
/** node_modules/.cache: packages imported by the bundle resolve from here like from src/. */
const BUNDLE = join(ROOT, 'node_modules', '.cache', 'vmsight', 'cli.mjs');

/** Newest modification time (ms) of the sources the bundle is made from. */
function newestSourceTime() {
  let newest = statSync(join(ROOT, 'package.json')).mtimeMs;
  for (const entry of readdirSync(SOURCE_DIR, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const time = statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs;
    if (time > newest) newest = time;
  }
  return newest;
}

function bundleTime() {
  try {
    return statSync(BUNDLE).mtimeMs;
  } catch {
    return -1;
  }
}

async function buildBundle() {
  const { build } = await import('esbuild');
  mkdirSync(dirname(BUNDLE), { recursive: true });
  // Written aside and renamed: two vmsight commands starting at once never see half a bundle.
  const temporary = `${BUNDLE}.${process.pid}.tmp`;
  await build({
    entryPoints: [ENTRY],
    outfile: temporary,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
    plugins: [
      {
        name: 'own-file-urls',
        setup(builder) {
          builder.onLoad({ filter: /\.ts$/ }, async (args) => ({
            contents: (await readFile(args.path, 'utf8')).replaceAll(
              'import.meta.url',
              JSON.stringify(pathToFileURL(args.path).href),
            ),
            loader: 'ts',
          }));
        },
      },
    ],
  });
  renameSync(temporary, BUNDLE);
}

/**
 * The `main` of src/cli/main.ts: from the bundle, rebuilt first when stale; through tsx when
 * VMSIGHT_NO_BUNDLE=1 or when the bundle cannot be built (a read-only node_modules).
 */
export async function loadMain() {
  if (process.env.VMSIGHT_NO_BUNDLE !== '1') {
    try {
      if (bundleTime() < newestSourceTime()) await buildBundle();
      return (await import(pathToFileURL(BUNDLE).href)).main;
    } catch (error) {
      process.emitWarning(`vmsight: running from source through tsx (${error.message})`);
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../src/cli/main.ts')).main;
}
