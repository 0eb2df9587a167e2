import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generate } from './generate';
import { existingGeneratedFiles, repoRoot, schemasDir } from './paths';

// `generate` writes the generated folders; `generate --check` only reports whether they are stale.
const check = process.argv.includes('--check');
const dir = schemasDir();
if (!dir) {
  console.error(
    'schema-gen: Apple schemas not found; set MDMKIT_SCHEMAS_DIR or place them at ../shared/apple-device-management',
  );
  process.exit(1);
}
const files = generate(dir);
const stale: string[] = [];
for (const [path, code] of files) {
  const abs = join(repoRoot, path);
  let current: string | undefined;
  try {
    current = readFileSync(abs, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === code) continue;
  stale.push(path);
  if (!check) {
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, code);
  }
}
for (const path of existingGeneratedFiles()) {
  if (files.has(path)) continue;
  stale.push(path);
  if (!check) rmSync(join(repoRoot, path));
}
if (check && stale.length) {
  console.error(`schema-gen: stale generated files:\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
console.log(`schema-gen: ${files.size} files, ${stale.length} ${check ? 'stale' : 'updated'}`);
