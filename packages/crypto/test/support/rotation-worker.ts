/**
 * One process of the multi-process rotation test: waits for the start signal, then rotates the
 * shared key file and seals a secret under each new key, writing every sealed blob to `outDir`.
 *
 * Usage: node --import tsx --conditions=mdmkit-source rotation-worker.ts <keyPath> <outDir> <name> <rounds>
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLocalKeyProvider, sealSecret } from '../../src/index';

const [keyPath, outDir, name, roundsText] = process.argv.slice(2) as [string, string, string, string];
const rounds = Number(roundsText);

const provider = await createLocalKeyProvider({ path: keyPath });
await writeFile(join(outDir, `ready-${name}`), '');
while (!existsSync(join(outDir, 'go'))) await sleep(2);

for (let i = 0; i < rounds; i++) {
  const owner = `${name}-${i}`;
  // One secret under whatever key is current, one right after this process's own rotation.
  const before = await sealSecret(new TextEncoder().encode(`before ${owner}`), {
    provider,
    owner,
    kind: 'before',
  });
  await writeFile(join(outDir, `${owner}.before.sealed`), before);
  await provider.rotate();
  const after = await sealSecret(new TextEncoder().encode(`after ${owner}`), {
    provider,
    owner,
    kind: 'after',
  });
  await writeFile(join(outDir, `${owner}.after.sealed`), after);
}
process.stdout.write(JSON.stringify({ name, keyIds: provider.keyIds() }));
