import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../test-fixtures/mdm');

/** Bytes of a hand-written device message in test-fixtures/mdm. */
export function fixture(name: string): Uint8Array {
  return readFileSync(join(dir, `${name}.plist`));
}
