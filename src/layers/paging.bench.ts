// Translation throughput of the page-table walker with a warm cache (issue 3 asks for >= 2 million
// translations/s). Prints figures; never asserts on time. Run: npm run bench -- paging
import { PageTableBuilder } from './_page-table-builder.js';
import { PageTableWalker } from './page-table-walker.js';
import { PAGING_4_LEVEL, PAGING_5_LEVEL, type PagingMode } from './paging-modes.js';

const PAGES = 16_384; // 64 MiB of 4 KiB pages: 32 page tables, all in the walker's cache
const TRANSLATIONS = 4_000_000;

function bench(mode: PagingMode, base: bigint, label: string, random: boolean): void {
  const builder = new PageTableBuilder(mode, 2 * 1024 * 1024);
  for (let i = 0; i < PAGES; i += 1)
    builder.map(base + BigInt(i) * 4096n, 0x10000000n + BigInt(i) * 4096n);
  const walker = new PageTableWalker(builder.layer, mode);
  const addresses: bigint[] = [];
  let seed = 12345;
  for (let i = 0; i < 65_536; i += 1) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const page = random ? seed % PAGES : i % PAGES;
    addresses.push(base + BigInt(page) * 4096n + BigInt(seed & 0xfff));
  }
  for (const va of addresses) walker.translate(builder.root, va); // warm up (JIT and cache)
  const started = process.hrtime.bigint();
  let hits = 0;
  for (let i = 0; i < TRANSLATIONS; i += 1) {
    if (walker.translate(builder.root, addresses[i & 0xffff] ?? 0n).ok) hits += 1;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(
    `${label.padEnd(44)} ${(TRANSLATIONS / seconds / 1e6).toFixed(2)} M translations/s ` +
      `(${TRANSLATIONS} in ${seconds.toFixed(3)} s, ${hits} mapped, ${walker.cache.size} tables cached)`,
  );
}

bench(PAGING_4_LEVEL, 0xffff888000000000n, '4-level, sequential pages, warm cache', false);
bench(PAGING_4_LEVEL, 0xffff888000000000n, '4-level, random pages, warm cache', true);
bench(PAGING_5_LEVEL, 0xff11000000000000n, '5-level, sequential pages, warm cache', false);
bench(PAGING_5_LEVEL, 0xff11000000000000n, '5-level, random pages, warm cache', true);
