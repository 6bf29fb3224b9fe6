// Lists files under a directory whose names end with a suffix, sorted, without shell globs
// (Node 20's test runner runs 0 tests when handed a directory or a quoted glob).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export function findFiles(root, suffix) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(path);
      } else if (entry.name.endsWith(suffix)) {
        found.push(path);
      }
    }
  };
  walk(root);
  return found.sort();
}
