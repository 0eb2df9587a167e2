// `pnpm --filter @mdmkit/storage-postgres run bench`: runs @mdmkit/storage's bench harness for this
// adapter only (see bench/storage-adapter.ts); it rewrites the adapter's block of the storage section
// of docs/benchmarks.md. Extra arguments pass through (e.g. `-- --sizes 10000 --seconds 1`). Each
// client-count phase runs 5 s by default: the shared machine's load swings too much for shorter runs.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const harness = join(here, '..', '..', 'storage', 'bench', 'index.ts');
const extra = process.argv.slice(2);
if (!extra.includes('--seconds')) extra.push('--seconds', '5');
const r = spawnSync(process.execPath, [...process.execArgv, harness, '--adapter', 'postgres', ...extra], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
