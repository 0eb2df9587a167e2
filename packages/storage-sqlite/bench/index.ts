// `pnpm --filter @mdmkit/storage-sqlite run bench`: runs @mdmkit/storage's bench harness for the
// SQLite adapter only (both durability settings, see bench/storage-adapter.ts); it rewrites those
// blocks of the storage section of docs/benchmarks.md. Extra arguments pass through
// (e.g. `-- --sizes 10000 --seconds 1`).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const harness = join(here, '..', '..', 'storage', 'bench', 'index.ts');
const r = spawnSync(
  process.execPath,
  [...process.execArgv, harness, '--adapter', 'sqlite,sqlite-normal', ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
