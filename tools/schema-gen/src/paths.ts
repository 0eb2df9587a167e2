import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DECLARATIVE_DIR } from './declarative';
import { COMMANDS_DIR, PROTOCOL_DIR } from './generate';
import { PROFILES_DIR } from './profiles';

/** The repository root (two levels above this package). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Apple's schemas: `MDMKIT_SCHEMAS_DIR`, else `<repo>/../shared/apple-device-management`.
 * Returns undefined when absent (users' clones do not carry them).
 */
export function schemasDir(): string | undefined {
  const dir = expectedSchemasDir();
  return existsSync(join(dir, 'RELEASE')) && existsSync(join(dir, 'mdm')) ? dir : undefined;
}

/** Where the schemas are looked for, whether or not they are there. */
export function expectedSchemasDir(): string {
  return process.env.MDMKIT_SCHEMAS_DIR ?? join(repoRoot, '..', 'shared', 'apple-device-management');
}

/** Every file currently in the generated folders, relative to the repository root. */
export function existingGeneratedFiles(root = repoRoot): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(join(root, PROTOCOL_DIR));
  walk(join(root, COMMANDS_DIR));
  walk(join(root, PROFILES_DIR));
  walk(join(root, DECLARATIVE_DIR));
  return out.sort();
}
