import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMultiProcessConformance, tsxChildCommand } from '@mdmkit/storage/conformance';
import { createSqliteStorage } from '../src/index';

runMultiProcessConformance('sqlite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdmkit-sqlite-mp-'));
  const path = join(dir, 'mdm.sqlite');
  return {
    open: () => createSqliteStorage({ path }),
    childCommand: tsxChildCommand(fileURLToPath(new URL('./child.ts', import.meta.url))),
    childEnv: { MDMKIT_SQLITE_PATH: path },
    destroy: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
